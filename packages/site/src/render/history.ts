/** One line of an item's history across releases. */
export interface HistoryEntry {
  /** The version the change landed in (`1.1`, or `draft`). */
  version: string;
  kind: 'added' | 'changed' | 'removed';
  summary: string;
  /** The change alters what implementations must do (a breaking change of the rules). */
  normative: boolean;
}

/**
 * Finds the history of a message or feature by name; empty when unknown. A message's history
 * includes the changes to the ring transitions it causes; `ring-transition` gives those alone.
 */
export type HistoryLookup = (entity: 'message' | 'feature' | 'ring-transition', name: string) => HistoryEntry[];
