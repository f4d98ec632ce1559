/** The shape of a lint rule, and a helper to build located issues. */
import type { SpecModel } from '../load.js';
import type { SpecRepository } from '../repository.js';
import type { PathSegment, SourceLocation, SpecIssue } from '../yaml-file.js';

export interface LintContext {
  repo: SpecRepository;
  /** The version being checked (the draft or one release). */
  model: SpecModel;
  /** Versions older than `model`, oldest first. */
  earlier: SpecModel[];
}

export interface LintRule {
  id: string;
  description: string;
  check(ctx: LintContext): SpecIssue[];
}

/** Collects issues for one rule. */
export class Findings {
  readonly issues: SpecIssue[] = [];
  constructor(
    readonly rule: string,
    readonly model: SpecModel,
  ) {}

  at(entity: object, sub: PathSegment[], message: string): void {
    this.atLocation(this.model.where(entity, ...sub), message);
  }

  /** The line an entity starts on, to point from a second occurrence to the first. */
  lineOf(entity: object): number {
    return this.model.where(entity).line;
  }

  atLocation(loc: SourceLocation, message: string, severity: SpecIssue['severity'] = 'error'): void {
    this.issues.push({ rule: this.rule, message, loc, severity });
  }

  /** A finding that does not fail lint by itself (a config file can raise it to an error). */
  warnAt(entity: object, sub: PathSegment[], message: string): void {
    this.atLocation(this.model.where(entity, ...sub), message, 'warning');
  }
}
