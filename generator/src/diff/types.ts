/**
 * The semantic diff between two spec versions: the contract shared by the CLI (`vhost-user
 * diff`, `breaking`, `review`) and the site's diff pages. Implemented in ./index.ts.
 */
import type { SourceLocation } from '../yaml-file.js';

/** What kind of spec item changed. */
export type DiffEntity =
  | 'message'
  | 'protocol-feature'
  | 'virtio-feature'
  | 'payload'
  | 'enum'
  | 'constant'
  | 'registry'
  | 'header'
  | 'precondition'
  | 'ring-transition'
  | 'ring-layout'
  | 'prose-section';

/** Breaking-rule categories: bytes on the socket, normative rules, the generated API, the text. */
export type RuleCategory = 'WIRE' | 'BEHAVIOR' | 'SOURCE' | 'DOC';

export interface Change {
  kind: 'added' | 'removed' | 'changed';
  entity: DiffEntity;
  /** Canonical name of the item (`VHOST_USER_SET_VRING_ADDR`, `VringAddr`, a section anchor). */
  name: string;
  /** Dotted path of what changed inside the item (`fields.flags.offset`), empty for the item itself. */
  path: string;
  before?: unknown;
  after?: unknown;
  /** One line a reviewer can read. */
  summary: string;
  /** Id of the breaking rule this change triggers, if any (`message-id-changed`). */
  rule?: string;
  category?: RuleCategory;
  breaking: boolean;
  /** Set (instead of `breaking`) for rules reported as warnings by default; a config can make them errors. */
  warning?: boolean;
  /** Set when an approval file accepts this breaking change. */
  approved?: { reason: string; acknowledgedBy: string[] };
  /** Where the change is in the newer version (the older one for removals). */
  loc?: SourceLocation;
}

export interface SpecDiff {
  from: string;
  to: string;
  changes: Change[];
}
