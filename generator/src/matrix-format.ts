/**
 * The JSON shape of the implementation matrix (test/conformance/results/matrix.json): written by
 * the conformance suite (@vhost-user/cli), read by the site's "Implementations" page. It is one
 * of the project's file formats, like generated/spec.json, so it lives below both of them here
 * (`@vhost-user/generator/matrix-format`). Types only: importing it loads nothing.
 */

export type Cell = 'pass' | 'fail' | 'known-divergence' | 'skip';

export interface SectionResult {
  cell: Cell;
  pass: number;
  fail: number;
  knownDivergence: number;
  skip: number;
  /** Ids of the failing cases. */
  failing: string[];
  /** Cases left out because the peer exited (counted apart from skip). */
  notRun?: number;
  /** Cases whose recorded divergence was not seen: the expectation may be stale. */
  stale?: string[];
}

export interface MatrixRow {
  implementation: string;
  version: string;
  /** What the suite drove: back-end mode, and the device profile used for data-path cases. */
  mode: 'backend' | 'frontend';
  device?: string;
  sections: Record<string, SectionResult>;
  mustHold: boolean;
  /** False when the peer exited and some cases were not run. */
  complete?: boolean;
}

export interface Matrix {
  format: 1;
  generated: string;
  sections: string[];
  rows: MatrixRow[];
}
