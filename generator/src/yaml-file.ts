/**
 * Parsing one YAML file with positions, and validating it with a zod schema so that every
 * problem is reported as `file:line:column: message`. Spec files are untrusted (pull requests),
 * so a file is refused before it is built into objects when it nests too deep or holds too many
 * entries, and when its aliases expand too much.
 */
import { relative } from 'node:path';
import { Composer, isNode, isScalar, LineCounter, Parser, visit, YAMLParseError, type CST, type Document } from 'yaml';
import type { z } from 'zod';

/** Limits a spec YAML file must stay within (the spec itself is far inside them). */
export const YAML_LIMITS = {
  /** Collections inside collections: deeper nesting would exhaust the stack of the recursive steps. */
  maxDepth: 64,
  /** Entries of one list or map. */
  maxEntries: 10_000,
  /** Alias uses, weighted by what they expand to (the yaml library's maxAliasCount). */
  maxAliasCount: 100,
} as const;

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

export type PathSegment = string | number;

/** One problem found in the spec, with the place it points at. */
export interface SpecIssue {
  rule: string;
  message: string;
  loc: SourceLocation;
  severity: 'error' | 'warning';
}

export function formatIssue(issue: SpecIssue): string {
  return `${formatLocation(issue.loc)}: ${issue.severity} ${issue.rule}: ${issue.message}`;
}

/** A parsed YAML file that can say where any value inside it was written. */
export class YamlFile {
  readonly displayPath: string;
  private readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  private constructor(
    readonly path: string,
    doc: Document.Parsed,
    lines: LineCounter,
    root: string,
    private readonly text = '',
  ) {
    this.doc = doc;
    this.lines = lines;
    this.displayPath = relative(root, path) || path;
  }

  /** Parses `text` (the contents of `path`). No file when the text breaks a limit. */
  static parse(text: string, path: string, root: string): { file: YamlFile | undefined; issues: SpecIssue[] } {
    const lines = new LineCounter();
    const displayPath = relative(root, path) || path;
    const at = (offset: number): SourceLocation => {
      const pos = lines.linePos(offset);
      return { file: displayPath, line: pos.line, column: pos.col };
    };
    // The parser is iterative; composing and converting recurse, so the shape is checked between.
    const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
    const shape = shapeProblem(tokens);
    if (shape)
      return {
        file: undefined,
        issues: [{ rule: 'yaml-limits', message: shape.message, loc: at(shape.offset), severity: 'error' }],
      };
    let doc: Document.Parsed | undefined;
    for (const next of new Composer({ uniqueKeys: true }).compose(tokens, true, text.length)) {
      if (!doc) {
        doc = next;
        continue;
      }
      doc.errors.push(
        new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'a spec file holds one YAML document'),
      );
      break;
    }
    if (!doc) throw new Error('the YAML composer made no document'); // forceDoc always makes one
    const file = new YamlFile(path, doc, lines, root, text);
    // Only the first syntax error is reliable: the parser's later ones usually follow from it.
    const first = doc.errors[0];
    const more = doc.errors.length - 1;
    const issues: SpecIssue[] = first
      ? [
          {
            rule: 'yaml-syntax',
            message: `${first.message.split('\n')[0] ?? first.message}${more > 0 ? ` (${more} more syntax error(s) in this file likely follow from this one; fix it first)` : ''}`,
            loc: at(first.pos[0]),
            severity: 'error',
          },
        ]
      : [];
    if (issues.length > 0) return { file, issues };
    try {
      file.value = doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasCount });
    } catch (error) {
      if (!(error instanceof ReferenceError)) throw error;
      const message = `aliases expand to too many nodes (more than ${YAML_LIMITS.maxAliasCount} alias uses, counting what each one expands to)`;
      return {
        file: undefined,
        issues: [{ rule: 'yaml-limits', message, loc: at(firstAliasOffset(doc)), severity: 'error' }],
      };
    }
    return { file, issues };
  }

  /** The file's contents as plain values. */
  private value: unknown;

  get data(): unknown {
    return this.value;
  }

  /** Where the node at `path` starts; falls back to its nearest existing parent. */
  at(path: readonly PathSegment[]): SourceLocation {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return this.offsetToLocation(node.range[0]);
    }
    return { file: this.displayPath, line: 1, column: 1 };
  }

  private offsetToLocation(offset: number): SourceLocation {
    const pos = this.lines.linePos(offset);
    return { file: this.displayPath, line: pos.line, column: pos.col };
  }

  /** `since: 1.0` is the number 1 to YAML: say so, with the text as written. */
  private unquotedNumber(issue: z.core.$ZodIssue): string | undefined {
    if (issue.code !== 'invalid_type' || issue.expected !== 'string') return undefined;
    const node = this.doc.getIn(issue.path as PathSegment[], true);
    if (!isScalar(node) || typeof node.value !== 'number' || !node.range) return undefined;
    const raw = this.text.slice(node.range[0], node.range[1]).trim();
    return `${issue.path.join('.')}: YAML reads ${raw} unquoted as the number ${String(node.value)}; write it quoted: "${raw}"`;
  }

  /** Validates the whole file; zod issues become located spec issues. */
  validate<T>(schema: z.ZodType<T>): { value: T | undefined; issues: SpecIssue[] } {
    const result = schema.safeParse(this.data);
    if (result.success) return { value: result.data, issues: [] };
    const issues = result.error.issues.map((issue) => ({
      rule: 'schema',
      message: this.unquotedNumber(issue) ?? describeZodIssue(issue),
      loc: this.at(issue.path as PathSegment[]),
      severity: 'error' as const,
    }));
    return { value: undefined, issues };
  }
}

/** The first place where a file nests deeper or lists more than YAML_LIMITS allow. */
function shapeProblem(tokens: CST.Token[]): { message: string; offset: number } | undefined {
  const stack: { token: CST.Token; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { token, depth } = next;
    if (token.type === 'document') {
      if (token.value) stack.push({ token: token.value, depth });
      continue;
    }
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth >= YAML_LIMITS.maxDepth)
      return { message: `collections nest deeper than ${YAML_LIMITS.maxDepth} levels`, offset: token.offset };
    if (token.items.length > YAML_LIMITS.maxEntries)
      return {
        message: `a ${isList(token) ? 'list' : 'map'} has ${token.items.length} entries; at most ${YAML_LIMITS.maxEntries} are allowed`,
        offset: token.offset,
      };
    for (const item of token.items) {
      if (item.key) stack.push({ token: item.key, depth: depth + 1 });
      if (item.value) stack.push({ token: item.value, depth: depth + 1 });
    }
  }
  return undefined;
}

function isList(token: CST.BlockSequence | CST.BlockMap | CST.FlowCollection): boolean {
  return token.type === 'block-seq' || (token.type === 'flow-collection' && token.start.source === '[');
}

function firstAliasOffset(doc: Document.Parsed): number {
  let offset = 0;
  visit(doc, {
    Alias(_, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

function describeZodIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  if (issue.code === 'unrecognized_keys') return `${where}unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return `${where}${issue.message}`;
}
