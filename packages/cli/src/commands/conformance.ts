/** `vhost-user conformance`: the suite acts as a front-end and checks a back-end against the spec's rules. */
import { format, parse } from '../args.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { allCases, SECTION_ORDER } from '../conformance/cases.js';
import { loadExpectations, type Expectations } from '../conformance/expectations.js';
import { mustCasesHold, type CaseResult, type ConformanceCase } from '../conformance/model.js';
import { caseLine, junitReport, resultLine, summary, textReport } from '../conformance/report.js';
import { runCases } from '../conformance/runner.js';


export function selectCases(only: string | undefined): ConformanceCase[] {
  const cases = allCases();
  if (!only) return cases;
  const wanted = only.split(',').map((s) => s.trim());
  const picked = cases.filter((c) => wanted.some((w) => c.section === w || c.id === w || c.id.startsWith(`${w}/`) || c.anchor.includes(w)));
  if (picked.length === 0) throw new UsageError(`conformance: --only ${only} selects no case (sections: ${SECTION_ORDER.join(', ')})`);
  return picked;
}

export async function runConformance(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    {
      backend: { type: 'string' },
      spawn: { type: 'string' },
      'restart-each-case': { type: 'boolean' },
      device: { type: 'string' },
      impl: { type: 'string' },
      only: { type: 'string' },
      list: { type: 'boolean' },
      format: { type: 'string' },
      timeout: { type: 'string' },
      frontend: { type: 'boolean' },
    },
    'conformance',
  );
  const fmt = format(values.format, ['text', 'json', 'junit'] as const, 'text', 'conformance');
  if (values.frontend) throw new UsageError('conformance: --frontend (the suite as a back-end) is not implemented yet; use vhost-user trace to watch a front-end');
  const cases = selectCases(values.only as string | undefined);
  if (values.list) {
    if (fmt === 'json') io.out(JSON.stringify(cases.map(({ id, section, anchor, level, title, derivedFrom }) => ({ id, section, anchor, level, title, derivedFrom })), null, 2));
    else for (const c of cases) io.out(caseLine(c));
    return 0;
  }
  const socket = values.backend;
  if (typeof socket !== 'string') throw new UsageError('conformance: --backend <socket> is required (or --list)');
  let expectations: Expectations | undefined;
  if (typeof values.impl === 'string') {
    try {
      expectations = loadExpectations(values.impl);
    } catch (error) {
      throw new UsageError(`conformance: ${(error as Error).message}`);
    }
  }
  const timeoutMs = values.timeout === undefined ? 2000 : Number(values.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('conformance: --timeout must be milliseconds');
  let results: CaseResult[];
  try {
    results = await runCases(cases, {
      socket,
      spawn: values.spawn as string | undefined,
      restartEachCase: Boolean(values['restart-each-case']),
      device: values.device as string | undefined,
      timeoutMs,
      expectations,
      onResult: fmt === 'text' ? (r) => io.out(resultLine(r, io.colour)) : undefined,
    });
  } catch (error) {
    if ((error as Error).message.startsWith('unknown device')) throw new UsageError(`conformance: ${(error as Error).message}`);
    throw error;
  }
  const implementation = expectations?.implementation ?? (values.impl as string | undefined) ?? socket;
  if (fmt === 'json') io.out(JSON.stringify({ implementation, ok: mustCasesHold(results), summary: summary(results), results }, null, 2));
  else if (fmt === 'junit') io.out(junitReport(implementation, results));
  else io.out(textReport(results, io.colour));
  return mustCasesHold(results) ? 0 : 1;
}
