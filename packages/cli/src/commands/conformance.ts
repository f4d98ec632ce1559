/**
 * `vhost-user conformance`: with --backend the suite acts as a front-end and checks a back-end
 * against the spec's rules; with --frontend it serves a device and checks what a front-end sends.
 */
import { format, parse } from '../args.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { allCases, SECTION_ORDER } from '../conformance/cases.js';
import { loadExpectations, type Expectations } from '../conformance/expectations.js';
import { complete, mustCasesHold, type CaseResult, type ConformanceCase } from '../conformance/model.js';
import { caseLine, junitReport, resultLine, summary, textReport } from '../conformance/report.js';
import { runCases } from '../conformance/runner.js';
import { FRONTEND_SECTION_ORDER, frontendCases } from '../conformance/frontend/cases.js';
import { runFrontend } from '../conformance/frontend/runner.js';

type Listed = Pick<ConformanceCase, 'id' | 'section' | 'anchor' | 'level' | 'title' | 'derivedFrom'>;

export function selectCases(only: string | undefined): ConformanceCase[];
export function selectCases<C extends Listed>(only: string | undefined, cases: C[], sections: string[]): C[];
export function selectCases(
  only: string | undefined,
  cases: Listed[] = allCases(),
  sections: string[] = SECTION_ORDER,
): Listed[] {
  if (!only) return cases;
  const wanted = only.split(',').map((s) => s.trim());
  const picked = cases.filter((c) =>
    wanted.some((w) => c.section === w || c.id === w || c.id.startsWith(`${w}/`) || c.anchor.includes(w)),
  );
  if (picked.length === 0)
    throw new UsageError(`conformance: --only ${only} selects no case (sections: ${sections.join(', ')})`);
  return picked;
}

function listCases(cases: Listed[], fmt: string, io: Io): number {
  if (fmt === 'json')
    io.out(
      JSON.stringify(
        cases.map(({ id, section, anchor, level, title, derivedFrom }) => ({
          id,
          section,
          anchor,
          level,
          title,
          derivedFrom,
        })),
        null,
        2,
      ),
    );
  else for (const c of cases) io.out(caseLine(c));
  return 0;
}

function readExpectations(impl: string | boolean | undefined): Expectations | undefined {
  if (typeof impl !== 'string') return undefined;
  try {
    return loadExpectations(impl);
  } catch (error) {
    throw new UsageError(`conformance: ${(error as Error).message}`);
  }
}

/** Exit status 0 only when every MUST case holds and every case ran (a peer that exited fails the run). */
function report(implementation: string, results: CaseResult[], fmt: string, io: Io, notes: string[] = []): number {
  const ok = mustCasesHold(results) && complete(results);
  if (fmt === 'json')
    io.out(
      JSON.stringify(
        { implementation, ok, complete: complete(results), notes, summary: summary(results), results },
        null,
        2,
      ),
    );
  else if (fmt === 'junit') io.out(junitReport(implementation, results));
  else io.out(textReport(results, io.colour));
  return ok ? 0 : 1;
}

/** --frontend: the suite serves a device at --listen and judges the first front-end session. */
async function runFrontendMode(
  values: Record<string, string | boolean | undefined>,
  fmt: 'text' | 'json' | 'junit',
  io: Io,
): Promise<number> {
  const cases = selectCases(values.only as string | undefined, frontendCases(), FRONTEND_SECTION_ORDER);
  if (values.list) return listCases(cases, fmt, io);
  const listen = values.listen;
  if (typeof listen !== 'string') throw new UsageError('conformance: --frontend needs --listen <socket> (or --list)');
  const device = (values.device ?? 'blk') as string;
  if (device !== 'blk' && device !== 'net') throw new UsageError('conformance: --frontend serves --device blk or net');
  const waitMs = values.wait === undefined ? undefined : Number(values.wait);
  if (waitMs !== undefined && (!Number.isFinite(waitMs) || waitMs <= 0))
    throw new UsageError('conformance: --wait must be milliseconds');
  const expectations = readExpectations(values.impl);
  let onSignal: () => void = () => undefined;
  const stop = new Promise<void>((resolve) => (onSignal = () => resolve()));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (fmt === 'text') io.out(`serving a ${device} device at ${listen}; waiting for one front-end session to end`);
    const run = await runFrontend({
      listen,
      device,
      image: values.image as string | undefined,
      waitMs,
      stop,
      expectations,
      cases,
    });
    if (fmt === 'text') for (const r of run.results) io.out(resultLine(r, io.colour));
    return report(
      expectations?.implementation ?? (values.impl as string | undefined) ?? 'front-end',
      run.results,
      fmt,
      io,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
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
      listen: { type: 'string' },
      image: { type: 'string' },
      wait: { type: 'string' },
    },
    'conformance',
  );
  const fmt = format(values.format, ['text', 'json', 'junit'] as const, 'text', 'conformance');
  if (values.frontend) {
    if (values.backend !== undefined) throw new UsageError('conformance: --frontend and --backend exclude each other');
    return runFrontendMode(values, fmt, io);
  }
  const cases = selectCases(values.only as string | undefined);
  if (values.list) return listCases(cases, fmt, io);
  const socket = values.backend;
  if (typeof socket !== 'string')
    throw new UsageError('conformance: --backend <socket> is required (or --frontend --listen <socket>, or --list)');
  const expectations = readExpectations(values.impl);
  const timeoutMs = values.timeout === undefined ? 2000 : Number(values.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new UsageError('conformance: --timeout must be milliseconds');
  let results: CaseResult[];
  const notes: string[] = [];
  try {
    results = await runCases(cases, {
      socket,
      spawn: values.spawn as string | undefined,
      restartEachCase: Boolean(values['restart-each-case']),
      device: values.device as string | undefined,
      timeoutMs,
      expectations,
      onResult: fmt === 'text' ? (r) => io.out(resultLine(r, io.colour)) : undefined,
      onNote: (line) => {
        notes.push(line);
        // One line each, on stderr unless the report is text (JSON and JUnit stay parseable).
        if (fmt === 'text') io.out(line);
        else io.err(`conformance: ${line}`);
      },
    });
  } catch (error) {
    if ((error as Error).message.startsWith('unknown device'))
      throw new UsageError(`conformance: ${(error as Error).message}`);
    throw error;
  }
  return report(expectations?.implementation ?? (values.impl as string | undefined) ?? socket, results, fmt, io, notes);
}
