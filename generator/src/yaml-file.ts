/**
 * Reading one YAML file with positions, and validating it with a zod schema so that every
 * problem is reported as `file:line:column: message`.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

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

  static read(path: string, root: string): { file: YamlFile; issues: SpecIssue[] } {
    const text = readFileSync(path, 'utf8');
    return YamlFile.parse(text, path, root);
  }

  static parse(text: string, path: string, root: string): { file: YamlFile; issues: SpecIssue[] } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const file = new YamlFile(path, doc, lines, root, text);
    // Only the first syntax error is reliable: the parser's later ones usually follow from it.
    const first = doc.errors[0];
    const more = doc.errors.length - 1;
    const issues: SpecIssue[] = first
      ? [
          {
            rule: 'yaml-syntax',
            message: `${first.message.split('\n')[0] ?? first.message}${more > 0 ? ` (${more} more syntax error(s) in this file likely follow from this one; fix it first)` : ''}`,
            loc: file.offsetToLocation(first.pos[0]),
            severity: 'error',
          },
        ]
      : [];
    return { file, issues };
  }

  get data(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
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

function describeZodIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  if (issue.code === 'unrecognized_keys') return `${where}unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return `${where}${issue.message}`;
}
