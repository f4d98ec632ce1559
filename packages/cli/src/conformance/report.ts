/** Conformance results as text, JSON or JUnit (one test case per rule). */
import { junit } from '../output/junit.js';
import { style } from '../output/style.js';
import type { CaseResult, ConformanceCase } from './model.js';

export function caseLine(c: Pick<ConformanceCase, 'id' | 'level' | 'anchor' | 'title'>): string {
  return `${c.level.padEnd(6)} ${c.id.padEnd(52)} ${c.anchor}  ${c.title}`;
}

export function summary(results: readonly CaseResult[]): Record<string, number> {
  const counts: Record<string, number> = {
    pass: 0,
    fail: 0,
    'known-divergence': 0,
    skip: 0,
    'not-run': 0,
    mustFail: 0,
    stale: 0,
  };
  for (const r of results) {
    counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
    if (r.outcome === 'fail' && r.level === 'MUST') counts.mustFail = (counts.mustFail ?? 0) + 1;
    if (r.stale) counts.stale = (counts.stale ?? 0) + 1;
  }
  return counts;
}

export function resultLine(r: CaseResult, colour: boolean): string {
  const s = style(colour);
  const mark = {
    pass: s.green('pass'),
    fail: r.level === 'MUST' ? s.red('FAIL') : s.yellow('fail'),
    skip: 'skip',
    'known-divergence': s.yellow('known'),
    'not-run': s.yellow('n/run'),
  }[r.outcome];
  const extra = [r.detail, r.divergence ? `divergence: ${r.divergence.summary} (${r.divergence.links[0]})` : undefined]
    .filter(Boolean)
    .join(' — ');
  return `${mark.padEnd(colour ? 14 : 5)} ${r.level.padEnd(6)} ${r.id}${extra ? `  ${extra}` : ''}`;
}

export function textReport(results: readonly CaseResult[], colour: boolean): string {
  const c = summary(results);
  const notRun = c['not-run'] ? `, ${c['not-run']} not run (the peer exited)` : '';
  const stale = c.stale ? `, ${c.stale} stale expectation(s)` : '';
  return `${results.length} cases: ${c.pass} pass, ${c.fail} fail (${c.mustFail} MUST), ${c['known-divergence']} known divergence, ${c.skip} skipped${notRun}${stale}`;
}

export function junitReport(implementation: string, results: readonly CaseResult[]): string {
  return junit(
    `vhost-user conformance ${implementation}`,
    results.map((r) => ({
      name: `${r.level} ${r.id}`,
      classname: `conformance.${r.section}`,
      failures:
        r.outcome === 'fail'
          ? [{ message: r.detail ?? 'failed', body: `${r.title}\n${r.anchor}\n${r.detail ?? ''}` }]
          : [],
      skipped: r.outcome === 'not-run' || r.outcome === 'skip' ? (r.detail ?? r.outcome) : undefined,
    })),
  );
}
