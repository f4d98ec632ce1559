/**
 * Rendered chapters (hast) as reStructuredText that plain docutils and Sphinx both build
 * without warnings: every anchor becomes an explicit target (`.. _VHOST_USER_SET_VRING_ADDR:`),
 * links between sections become anonymous references to those targets, tables become
 * `list-table` directives, reference blocks become field lists, and every inline construct is
 * separated from neighbouring text so it parses as intended.
 */
import type { Element, ElementContent, Root, RootContent } from 'hast';

const BLOCK_TAGS = new Set([
  'p',
  'ul',
  'ol',
  'li',
  'table',
  'pre',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'div',
  'section',
  'figure',
  'figcaption',
  'dl',
  'dt',
  'dd',
  'blockquote',
  'hr',
  'nav',
  'caption',
  'details',
  'summary',
  'main',
]);
/** Pictures of something a table next to them states in words (byte diagrams), and page chrome. */
const SKIP_CLASSES = new Set(['bytes', 'self-link', 'pager', 'single-page-note']);
/** Heading adornment per level: the document title uses `#` above and below. */
const UNDERLINES: Record<string, string> = { h1: '=', h2: '-', h3: '~', h4: '^', h5: '"', h6: "'" };

export interface RstLinks {
  /** The target name for an internal href (`rings.html#ring-states`), or undefined to keep the text only. */
  target: (href: string) => string | undefined;
}

type Inline = { markup: boolean; text: string };

const classes = (node: Element): string[] => {
  const value = node.properties.className;
  return Array.isArray(value) ? value.map(String) : [];
};
const skipped = (node: Element): boolean => classes(node).some((c) => SKIP_CLASSES.has(c));
const isBlock = (node: ElementContent | RootContent): boolean =>
  node.type === 'element' && BLOCK_TAGS.has(node.tagName);

/** Plain text with every character that could start markup escaped; whitespace collapsed. */
function escapeText(value: string): string {
  return value.replace(/\s+/g, ' ').replace(/([\\*`|_<>\[\]])/g, '\\$1');
}

function plainText(node: ElementContent): string {
  if (node.type === 'text') return node.value;
  if (node.type !== 'element' || skipped(node) || node.tagName === 'wbr') return '';
  if (node.tagName === 'br') return ' ';
  return node.children.map(plainText).join('');
}

/** Characters around inline markup that let it be recognized (docutils' inline markup recognition rules). */
const BEFORE_START = /[\s\-:/'"<([{]/;
const AFTER_END = /[\s\-.,:;!?\\/'")\]}>]/;

function joinInline(parts: Inline[]): string {
  let out = '';
  parts.forEach((part, i) => {
    if (!part.text) return;
    const prev = out.at(-1);
    if (part.markup && prev !== undefined && !BEFORE_START.test(prev)) out += '\\ ';
    else if (!part.markup && i > 0 && parts[i - 1]?.markup && !AFTER_END.test(part.text[0] as string)) out += '\\ ';
    out += part.text;
  });
  return out.replace(/ {2,}/g, ' ');
}

export class RstWriter {
  /** Target names already written (docutils compares them without case). */
  private readonly targets = new Set<string>();

  constructor(private readonly links: RstLinks) {}

  private inline(nodes: ElementContent[]): Inline[] {
    const out: Inline[] = [];
    for (const node of nodes) {
      if (node.type === 'text') out.push({ markup: false, text: escapeText(node.value) });
      if (node.type !== 'element' || skipped(node)) continue;
      const text = plainText(node).replace(/\s+/g, ' ').trim();
      switch (node.tagName) {
        case 'wbr':
          break;
        case 'br':
          out.push({ markup: false, text: ' ' });
          break;
        case 'code':
          if (text) out.push({ markup: true, text: `\`\`${text.replace(/`/g, "'")}\`\`` });
          break;
        case 'em':
        case 'strong':
        case 'b':
        case 'i': {
          const strong = node.tagName !== 'em' || classes(node).includes('kw');
          if (text) out.push({ markup: true, text: strong ? `**${escapeText(text)}**` : `*${escapeText(text)}*` });
          break;
        }
        case 'a': {
          const href = String(node.properties.href ?? '');
          if (!text) break;
          const label = escapeText(text);
          if (/^https?:/.test(href)) out.push({ markup: true, text: `\`${label} <${href}>\`__` });
          else {
            const target = this.links.target(href);
            if (target && this.declared.has(target.toLowerCase()))
              out.push({ markup: true, text: `\`${label} <${target}_>\`__` });
            else out.push(...this.inline(node.children));
          }
          break;
        }
        default:
          out.push(...this.inline(node.children));
      }
    }
    return out;
  }

  private inlineText(nodes: ElementContent[]): string {
    return joinInline(this.inline(nodes)).trim();
  }

  /** A paragraph's text on one line, with a line start that cannot read as a list or a comment. */
  private paragraph(nodes: ElementContent[]): string[] {
    const text = this.inlineText(nodes);
    if (!text) return [];
    const safe = /^([-+*•]\s|\d+[.)]\s|#\.|\.\.|:|\(\w\)|[=~^"'`#]{3,}$)/.test(text) ? `\\${text}` : text;
    return [safe, ''];
  }

  private targetLines(node: Element): string[] {
    const ids: string[] = [];
    const collect = (n: Element): void => {
      if (typeof n.properties.id === 'string') ids.push(n.properties.id);
      for (const c of n.children) if (c.type === 'element' && !isBlock(c)) collect(c);
    };
    collect(node);
    const out: string[] = [];
    for (const id of ids) {
      if (this.targets.has(id.toLowerCase())) continue;
      this.targets.add(id.toLowerCase());
      out.push(`.. _${id.replace(/([:`\\])/g, '\\$1')}:`, '');
    }
    return out;
  }

  /** Ids that will get a target: references to other names are left as text. */
  readonly declared = new Set<string>();

  /** Registers every id of a tree first, so references may point forward. */
  declare(tree: Root): void {
    const walk = (n: Root | Element): void => {
      for (const c of n.children) {
        if (c.type !== 'element') continue;
        if (typeof c.properties.id === 'string') this.declared.add(c.properties.id.toLowerCase());
        walk(c);
      }
    };
    walk(tree);
  }

  blocks(nodes: (ElementContent | RootContent)[]): string[] {
    const out: string[] = [];
    let run: ElementContent[] = [];
    const flush = (): void => {
      if (run.some((n) => n.type === 'element' || (n.type === 'text' && n.value.trim())))
        out.push(...this.paragraph(run));
      run = [];
    };
    for (const node of nodes) {
      if (node.type === 'doctype' || node.type === 'comment') continue;
      if (node.type === 'element' && skipped(node)) continue;
      if (!isBlock(node)) {
        if (node.type === 'text' || node.type === 'element') run.push(node);
        continue;
      }
      flush();
      out.push(...this.block(node as Element));
    }
    flush();
    return out;
  }

  private block(node: Element): string[] {
    const targets =
      typeof node.properties.id === 'string' || /^h[1-6]$/.test(node.tagName) ? this.targetLines(node) : [];
    switch (node.tagName) {
      case 'h1':
      case 'h2':
      case 'h3':
      case 'h4':
      case 'h5':
      case 'h6': {
        const title = this.inlineText(node.children);
        const line = (UNDERLINES[node.tagName] as string).repeat(Math.max(4, title.length + 2));
        return [...targets, title, line, ''];
      }
      case 'p':
      case 'figcaption':
      case 'summary':
        return [...targets, ...this.paragraph(node.children)];
      case 'caption':
        return [];
      case 'pre': {
        const code = plainText(node).replace(/\n$/, '');
        return [...targets, '::', '', ...code.split('\n').map((l) => (l ? `   ${l}` : '')), ''];
      }
      case 'ul':
      case 'ol':
        return [...targets, ...this.list(node, node.tagName === 'ol' ? '#.' : '-'), ''];
      case 'dl':
        return [...targets, ...this.fieldList(node), ''];
      case 'table':
        return [...targets, ...this.table(node)];
      case 'hr':
        return [];
      case 'blockquote':
        return [...targets, ...indent(this.blocks(node.children), '   '), ''];
      default:
        return [...targets, ...this.blocks(node.children)];
    }
  }

  private list(node: Element, bullet: string): string[] {
    const out: string[] = [];
    for (const item of node.children) {
      if (item.type !== 'element' || item.tagName !== 'li') continue;
      const body = trimBlank(this.blocks(item.children));
      out.push(...bulleted(body.length ? body : ['..'], `${bullet} `));
    }
    return out;
  }

  private fieldList(node: Element): string[] {
    const out: string[] = [];
    let name = '';
    for (const child of node.children) {
      if (child.type !== 'element') continue;
      if (child.tagName === 'dt') name = plainText(child).replace(/\s+/g, ' ').replace(/:/g, '').trim();
      if (child.tagName === 'dd') {
        const body = trimBlank(this.blocks(child.children));
        const [first = '', ...rest] = body.length ? body : ['—'];
        out.push(`:${escapeText(name)}: ${first}`, ...indent(rest, '   '));
      }
    }
    return out;
  }

  private table(node: Element): string[] {
    const rows: { header: boolean; cells: Element[] }[] = [];
    const caption = node.children.find((c): c is Element => c.type === 'element' && c.tagName === 'caption');
    for (const group of node.children) {
      if (group.type !== 'element' || !['thead', 'tbody', 'tfoot'].includes(group.tagName)) continue;
      for (const tr of group.children) {
        if (tr.type !== 'element' || tr.tagName !== 'tr') continue;
        const cells = tr.children.filter((c): c is Element => c.type === 'element' && ['td', 'th'].includes(c.tagName));
        rows.push({ header: group.tagName === 'thead', cells });
      }
    }
    const width = Math.max(0, ...rows.map((r) => r.cells.reduce((n, c) => n + Number(c.properties.colSpan ?? 1), 0)));
    if (width === 0) return [];
    // list-table needs a body row: a table of headings only is written as plain rows.
    const headerRows = rows.every((r) => r.header) ? 0 : rows.filter((r) => r.header).length;
    const title = caption ? this.inlineText(caption.children) : '';
    const out = [`.. list-table::${title ? ` ${title}` : ''}`];
    if (headerRows) out.push(`   :header-rows: ${headerRows}`);
    out.push('');
    for (const row of rows) {
      const cells: string[][] = [];
      for (const cell of row.cells) {
        const body = trimBlank(this.blocks(cell.children));
        cells.push(body.length ? body : ['..']);
        for (let i = 1; i < Number(cell.properties.colSpan ?? 1); i++) cells.push(['..']);
      }
      while (cells.length < width) cells.push(['..']);
      const item = cells.flatMap((body) => bulleted(body, '- '));
      out.push(...indent(bulleted(item, '* '), '   '));
    }
    out.push('');
    return out;
  }
}

function trimBlank(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start] === '') start++;
  while (end > start && lines[end - 1] === '') end--;
  return lines.slice(start, end);
}

function indent(lines: string[], by: string): string[] {
  return lines.map((l) => (l ? by + l : ''));
}

function bulleted(body: string[], bullet: string): string[] {
  const pad = ' '.repeat(bullet.length);
  return body.map((line, i) => (i === 0 ? bullet + line : line ? pad + line : ''));
}
