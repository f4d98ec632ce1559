/** One line of an item's history across releases. */
export interface HistoryEntry {
  /** The version the change landed in (`1.1`, or `draft`). */
  version: string;
  kind: 'added' | 'changed' | 'removed';
  summary: string;
}

/** Finds the history of a message or feature by name; empty when unknown. */
export type HistoryLookup = (entity: 'message' | 'feature', name: string) => HistoryEntry[];
