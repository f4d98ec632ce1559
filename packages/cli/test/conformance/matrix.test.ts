/** The matrix flags what a run could not vouch for: stale expectations and cases not run. */
import { describe, expect, it } from 'vitest';
import { Expectations } from '../../src/conformance/expectations.js';
import { matrixRow, renderMatrix } from '../../src/conformance/matrix.js';
import type { CaseResult } from '../../src/conformance/model.js';
import { applyExpectation, flagStale } from '../../src/conformance/runner.js';

const result = (id: string, outcome: CaseResult['outcome']): CaseResult => ({
  id,
  section: id.split('/')[0] as string,
  anchor: 'x.html',
  level: 'MUST',
  title: id,
  outcome,
  ms: 1,
});

describe('matrix flags', () => {
  const expectations = new Expectations('impl', [
    { case: 'rings/a', summary: 'diverges on a', links: ['https://example.org/a'] },
    { case: 'gating/*', summary: 'no gating', links: ['https://example.org/g'] },
  ]);

  it('a recorded divergence that passes is stale; a wildcard only when none of its cases diverged', () => {
    const results = [result('rings/a', 'pass'), result('gating/x', 'pass'), result('gating/y', 'fail')];
    for (const r of results) applyExpectation(r, expectations);
    flagStale(results, expectations);
    expect(results.map((r) => [r.id, r.outcome, r.stale ?? false])).toEqual([
      ['rings/a', 'pass', true],
      ['gating/x', 'pass', false],
      ['gating/y', 'known-divergence', false],
    ]);
    const allPass = [result('gating/x', 'pass'), result('gating/y', 'pass')];
    for (const r of allPass) applyExpectation(r, expectations);
    flagStale(allPass, expectations);
    expect(allPass.every((r) => r.stale)).toBe(true);
  });

  it('rows count cases not run, list stale ids, and say when a run is incomplete', () => {
    const results = [result('rings/a', 'pass'), result('rings/b', 'not-run')];
    applyExpectation(results[0] as CaseResult, expectations);
    const row = matrixRow('impl', '1.0', results);
    expect(row.complete).toBe(false);
    expect(row.sections.rings).toMatchObject({ notRun: 1, stale: ['rings/a'] });
    const html = renderMatrix({ format: 1, generated: 'now', sections: ['rings'], rows: [row] });
    expect(html).toContain('⚠ 1 stale');
    expect(html).toContain('1 not run');
    expect(html).toContain('incomplete: the peer exited');
  });
});
