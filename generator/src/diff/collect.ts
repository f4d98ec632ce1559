/** Collecting changes while two spec versions are compared, with their rule and location. */
import type { SpecModel } from '../load.js';
import type { PathSegment, SourceLocation } from '../yaml-file.js';
import { breakingRule, type BreakingRuleId } from './rules.js';
import type { Change, DiffEntity } from './types.js';

export interface ChangeInput {
  kind: Change['kind'];
  entity: DiffEntity;
  name: string;
  path?: string;
  before?: unknown;
  after?: unknown;
  summary: string;
  rule?: BreakingRuleId;
  loc?: SourceLocation;
}

/** Points into the older or the newer version. */
export interface Place {
  entity: object;
  sub?: PathSegment[];
}

export class DiffCollector {
  readonly changes: Change[] = [];
  constructor(
    readonly from: SpecModel,
    readonly to: SpecModel,
  ) {}

  /** Where `entity` is in the newer version. */
  inTo(entity: object, ...sub: PathSegment[]): SourceLocation {
    return this.to.where(entity, ...sub);
  }

  /** Where `entity` was in the older version (for removals). */
  inFrom(entity: object, ...sub: PathSegment[]): SourceLocation {
    return this.from.where(entity, ...sub);
  }

  /** A `changed` reporter for one item, so comparisons only say what differs. */
  changedReporter(entity: DiffEntity, name: string): (input: Omit<ChangeInput, 'kind' | 'entity' | 'name'>) => void {
    return (input) => this.add({ kind: 'changed', entity, name, ...input });
  }

  /** Renames (a generated-name change) and alias edits of a named item. */
  compareNames(
    entity: DiffEntity,
    old: { name: string; aliases?: string[] },
    now: { name: string; aliases?: string[] },
  ): void {
    const add = this.changedReporter(entity, now.name);
    if (old.name !== now.name) {
      add({
        path: 'name',
        before: old.name,
        after: now.name,
        summary: `renamed ${old.name} to ${now.name}: the generated API spells it differently`,
        rule: 'generated-name-changed',
        loc: this.inTo(now, 'name'),
      });
    }
    const droppedAliases = minus(old.aliases, [...(now.aliases ?? []), now.name]);
    const newAliases = minus(now.aliases, [...(old.aliases ?? []), old.name]);
    if (droppedAliases.length > 0 || newAliases.length > 0) {
      add({
        path: 'aliases',
        before: old.aliases ?? [],
        after: now.aliases ?? [],
        summary: `aliases: ${listOrNone(old.aliases)} -> ${listOrNone(now.aliases)}`,
        loc: this.inTo(now, 'aliases'),
      });
    }
  }

  add(input: ChangeInput): void {
    const rule = input.rule ? breakingRule(input.rule) : undefined;
    const change: Change = {
      kind: input.kind,
      entity: input.entity,
      name: input.name,
      path: input.path ?? '',
      summary: input.summary,
      breaking: rule !== undefined && rule.level === 'error',
    };
    if (rule?.level === 'warning') change.warning = true;
    if ('before' in input) change.before = input.before;
    if ('after' in input) change.after = input.after;
    if (rule) {
      change.rule = rule.id;
      change.category = rule.category;
    }
    if (input.loc) change.loc = input.loc;
    this.changes.push(change);
  }
}

/** Structural equality of plain YAML data (key order ignored). */
export function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
    }
    return v;
  });
}

/** A list shown in a summary: `A, B` or `none`. */
export function listOrNone(items: readonly string[] | undefined): string {
  return items && items.length > 0 ? items.join(', ') : 'none';
}

/** Items of `a` not in `b`. */
export function minus(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] {
  const other = new Set(b ?? []);
  return (a ?? []).filter((x) => !other.has(x));
}

export function sameSet(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return minus(a, b).length === 0 && minus(b, a).length === 0;
}

/** Something known by a name and optional aliases. */
export interface Named {
  name: string;
  aliases?: string[];
}

/** The same item across versions: same name, or one's name is the other's alias. */
export function sameItem(a: Named, b: Named): boolean {
  return a.name === b.name || (b.aliases ?? []).includes(a.name) || (a.aliases ?? []).includes(b.name);
}
