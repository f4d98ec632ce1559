/** The conformance suite's model: cases addressed by spec section and level, and their results. */
import type { Session } from './session.js';

export type Level = 'MUST' | 'SHOULD' | 'MAY';
/** `not-run`: the peer was gone before the case could run (neither passed nor failed). */
export type Outcome = 'pass' | 'fail' | 'skip' | 'known-divergence' | 'not-run';

/**
 * The level a spec rule is judged at: its own, or for a clarification stricter than upstream the
 * level upstream states (`none`, upstream silent: MAY, reported but never failing a run).
 */
export function judgedLevel(level: string): Level {
  return level.startsWith('MUST') ? 'MUST' : level.startsWith('SHOULD') ? 'SHOULD' : 'MAY';
}

/** What identifies a case in either mode: the rule it checks and where the spec states it. */
export interface CaseInfo {
  /** Stable id: `<section>/<rule>` (e.g. `gating/VHOST_USER_GET_QUEUE_NUM`). */
  id: string;
  /** Group selected by --only (header, features, gating, replies, fds, memory, rings, config, malformed, reconnect). */
  section: string;
  /** Where the rule is written: `page.html#anchor` of the rendered spec. */
  anchor: string;
  level: Level;
  title: string;
  /** Set on cases generated from the spec's tables: which table row. */
  derivedFrom?: string;
}

export interface ConformanceCase extends CaseInfo {
  /** Connects one session (or more, for reconnect) and checks the rule; throws CaseFailure. */
  run(ctx: CaseContext): Promise<void>;
}

export interface CaseContext {
  /** A fresh session on a new connection (cases may open several). */
  open(): Promise<Session>;
  timeoutMs: number;
}

export interface CaseResult {
  id: string;
  section: string;
  anchor: string;
  level: Level;
  title: string;
  outcome: Outcome;
  detail?: string;
  /** The recorded divergence that turned a failure into known-divergence. */
  divergence?: { summary: string; links: string[] };
  /** A recorded divergence that this run did not see (the case passed): the expectation may be stale. */
  stale?: boolean;
  ms: number;
}

/** Exit rule: every MUST case passes, is skipped, or is a known divergence. */
export function mustCasesHold(results: readonly CaseResult[]): boolean {
  return results.every((r) => r.level !== 'MUST' || r.outcome !== 'fail');
}

/** Whether every case ran (none was left out because the peer was gone). */
export function complete(results: readonly CaseResult[]): boolean {
  return results.every((r) => r.outcome !== 'not-run');
}
