/**
 * Content checks run by every site build. Each finds one kind of defect a reader met in the
 * rendered spec and names the place to fix:
 *
 * - a requirement keyword split across a source line (`MUST` / `NOT`): the line break is where
 *   a reader's eye and some tools stop, so the source keeps the two words on one line;
 * - a generated sentence that repeats a clause or stacks two connectives ("when after");
 * - an item whose history misses a normative change of that version (a changed ring effect
 *   shown as "summary reworded");
 * - a ring struct whose size disagrees with its area in the areas table without saying why.
 *
 * The source checks (keywords, ring sizes) apply to the working draft only: releases are frozen
 * copies and are rendered right regardless. The checks of generated text apply to every version.
 */
import type { ProseChapter, RingLayoutFile, SpecModel } from '@vhost-user/generator';
import type { Element, Root } from 'hast';
import { toString } from 'hast-util-to-string';
import { visit } from 'unist-util-visit';
import { eachWithAncestors, insideAny } from '../plugins/hast-util.js';
import type { SpecDiff } from '../history/semantic-diff.js';
import type { HistoryLookup } from '../render/history.js';

const KEYWORD_HEADS = ['MUST', 'SHALL', 'SHOULD'];

/** `MUST` at the end of a line and `NOT` at the start of the next. */
export function splitKeywords(chapter: Pick<ProseChapter, 'displayPath' | 'markdown'>): string[] {
  const lines = chapter.markdown.split('\n');
  const problems: string[] = [];
  lines.forEach((line, i) => {
    const head = KEYWORD_HEADS.find((k) => new RegExp(`\\b${k}\\s*$`).test(line));
    const next = lines[i + 1];
    if (head && next !== undefined && /^\s*NOT\b/.test(next))
      problems.push(
        `${chapter.displayPath}:${i + 1}: "${head} NOT" is split across lines ${i + 1}-${i + 2}; keep the keyword on one line`,
      );
  });
  return problems;
}

/** Two connectives in a row, as a sentence built from parts can produce. */
const STACKED = /\b(when|if|after|only when|only if)\s+(when|if|after)\b/i;

/** Words that, repeated in one generated sentence, show it was built from overlapping parts. */
const REPEAT_WORDS = 4;

/** A run of four words said twice in one sentence, or stacked connectives. */
export function garbledSentence(text: string): string | undefined {
  const stacked = STACKED.exec(text);
  if (stacked) return `"${stacked[0]}"`;
  for (const sentence of text.split(/(?<=[.!?])\s+/)) {
    const words = sentence
      .toLowerCase()
      .split(/[^a-z0-9_]+/)
      .filter(Boolean);
    const seen = new Set<string>();
    for (let i = 0; i + REPEAT_WORDS <= words.length; i++) {
      const run = words.slice(i, i + REPEAT_WORDS).join(' ');
      if (seen.has(run)) return `"${run}" twice`;
      seen.add(run);
    }
  }
  return undefined;
}

const NESTED = new Set(['table', 'dl', 'ul', 'ol']);
const CHECKED = new Set(['dd', 'td', 'li']);
/** Classes of the blocks and tables built from the YAML tables (not hand-written prose). */
const GENERATED = ['ref', 'spec-table'];

/** Generated text: the reference blocks (facts and tables) of a rendered chapter. */
export function garbledGeneratedText(path: string, tree: Root): string[] {
  const problems: string[] = [];
  eachWithAncestors<Element>(tree, 'element', (node, ancestors) => {
    if (!CHECKED.has(node.tagName) || !insideAny(ancestors, new Set(), GENERATED)) return;
    // A cell holding a table or a list (bit views, history) is checked item by item instead.
    let nested = false;
    visit(node, 'element', (inner: Element) => {
      if (inner !== node && NESTED.has(inner.tagName)) nested = true;
    });
    if (nested) return;
    const why = garbledSentence(toString(node));
    if (why) problems.push(`${path}: generated text says ${why}: "${toString(node).trim().slice(0, 120)}"`);
  });
  return problems;
}

/**
 * Every normative change (a breaking change of the message itself or of the ring transitions it
 * causes) must appear in that message's history as a normative entry of the same version.
 */
export function historyGaps(version: string, diffs: SpecDiff[], history: HistoryLookup): string[] {
  const problems: string[] = [];
  for (const diff of diffs) {
    for (const change of diff.changes) {
      if (!change.breaking || (change.entity !== 'message' && change.entity !== 'ring-transition')) continue;
      const entries = history('message', change.name);
      if (!entries.some((e) => e.version === diff.to && e.normative))
        problems.push(
          `${version}: the history of ${change.name} misses the normative change of ${diff.to}: ${change.summary}`,
        );
    }
  }
  return problems;
}

/** The value of a size formula such as `6+2*Q`. */
export function evaluateSize(formula: string, q: number): number {
  const expression = formula.replace(/Q/g, String(q));
  if (!/^[0-9+*() ]+$/.test(expression)) throw new Error(`not a size formula: ${formula}`);
  // Only digits, + and * remain: evaluate left to right with * before +.
  return expression
    .replace(/[() ]/g, '')
    .split('+')
    .reduce((sum, term) => sum + term.split('*').reduce((product, f) => product * Number(f), 1), 0);
}

/**
 * An area's size at the largest queue against its struct's largest size. When they differ, the
 * struct's doc must say so: "N more bytes in the area: <what>".
 */
export function ringSizeMismatches(file: string, ring: RingLayoutFile): string[] {
  const problems: string[] = [];
  for (const area of ring.areas) {
    const struct = ring.structs.find((s) => s.name === area.struct);
    // A fixed-size struct is an element of its area (Q descriptors); a variable one is the area.
    if (!struct || struct.size !== null || struct.maxSize === undefined) continue;
    const areaSize = evaluateSize(area.sizeFormula, ring.maxQueueSize);
    const difference = areaSize - struct.maxSize;
    if (difference === 0) continue;
    const stated = /(\d+) more bytes in the area/.exec(struct.doc);
    if (!stated || Number(stated[1]) !== difference)
      problems.push(
        `${file}: area ${area.name} is ${area.sizeFormula} = ${areaSize} bytes at Q = ${ring.maxQueueSize}, but ${struct.name} is at most ${struct.maxSize}; say "${difference} more bytes in the area: <field>" in ${struct.name}'s doc`,
      );
  }
  return problems;
}

/** The source checks of the working draft. */
export function draftSourceProblems(model: SpecModel): string[] {
  return [
    ...model.prose.flatMap(splitKeywords),
    ...ringSizeMismatches('spec/rings/split.yaml', model.rings.split),
    ...ringSizeMismatches('spec/rings/packed.yaml', model.rings.packed),
  ];
}
