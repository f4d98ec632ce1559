/** The build-time content checks, each on a small case that has the defect and one that does not. */
import type { RingLayoutFile } from '@vhost-user/generator';
import { h } from 'hastscript';
import { describe, expect, it } from 'vitest';
import {
  evaluateSize,
  garbledGeneratedText,
  garbledSentence,
  historyGaps,
  ringSizeMismatches,
  splitKeywords,
} from '../src/check/content.js';
import type { SpecDiff } from '../src/history/semantic-diff.js';
import type { HistoryEntry } from '../src/render/history.js';

describe('content checks', () => {
  it('finds a requirement keyword split across lines', () => {
    const problems = splitKeywords({
      displayPath: 'spec/prose/x.md',
      markdown: 'The front-end MUST\nNOT send it.\nIt SHOULD NOT\nwait. It MUST\nsend it.',
    });
    expect(problems).toEqual(['spec/prose/x.md:1: "MUST NOT" is split across lines 1-2; keep the keyword on one line']);
  });

  it('finds repeated clauses and stacked connectives in generated text', () => {
    expect(garbledSentence('With U64 only when F_LOG_SHMFD is negotiated: when F_LOG_SHMFD is negotiated.')).toMatch(
      /twice/,
    );
    expect(garbledSentence('With MemoryTable only when after VHOST_USER_POSTCOPY_LISTEN.')).toBe('"only when after"');
    expect(garbledSentence('With U64, only when VHOST_USER_PROTOCOL_F_LOG_SHMFD is negotiated.')).toBeUndefined();
    const tree = {
      type: 'root' as const,
      children: [h('div.ref', h('dl', [h('dt', 'Reply'), h('dd', 'sent only when after X')]))],
    };
    expect(garbledGeneratedText('latest/a.html', tree)).toHaveLength(1);
  });

  it('finds a normative change missing from an item history', () => {
    const diff = {
      from: '1.0',
      to: '1.1',
      changes: [
        {
          entity: 'ring-transition',
          kind: 'changed',
          name: 'VHOST_USER_SET_VRING_KICK',
          summary: 'started (first-kick) -> started (immediate)',
          breaking: true,
        },
      ],
    } as unknown as SpecDiff;
    const reworded: HistoryEntry[] = [
      { version: '1.1', kind: 'changed', summary: 'summary reworded', normative: false },
    ];
    expect(historyGaps('1.1', [diff], () => reworded)).toHaveLength(1);
    const complete: HistoryEntry[] = [...reworded, { ...reworded[0]!, summary: 'ring state', normative: true }];
    expect(historyGaps('1.1', [diff], () => complete)).toEqual([]);
  });

  it('compares a ring struct with its area, unless the struct says what the area adds', () => {
    expect(evaluateSize('6+2*Q', 32768)).toBe(65542);
    expect(evaluateSize('16*Q', 4)).toBe(64);
    const ring = (doc: string) =>
      ({
        ring: 'split',
        maxQueueSize: 32768,
        areas: [{ name: 'available_ring', struct: 'SplitAvail', align: 2, sizeFormula: '6+2*Q', doc: '' }],
        structs: [{ name: 'SplitAvail', size: null, maxSize: 65540, doc, fields: [] }],
      }) as unknown as RingLayoutFile;
    expect(ringSizeMismatches('split.yaml', ring('Written by the driver.'))).toHaveLength(1);
    expect(
      ringSizeMismatches('split.yaml', ring('Written by the driver. 2 more bytes in the area: used_event.')),
    ).toEqual([]);
  });
});
