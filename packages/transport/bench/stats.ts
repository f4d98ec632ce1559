/** Shared by the transport benchmarks: command-line options, medians, percentiles, JSON output. */
import { writeFileSync } from 'node:fs';

export interface BenchArgs {
  /** Rounds per case; each statistic is the median over rounds. */
  rounds: number;
  /** Seconds per case per round. */
  seconds: number;
  /** Where to write the JSON results, if anywhere. */
  json: string | undefined;
}

/** Parses `--rounds N --seconds S --json FILE`; exits with a usage line on a bad value. */
export function parseArgs(argv: string[], defaults: { rounds: number; seconds: number }, usage: string): BenchArgs {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    if (at < 0) return undefined;
    const v = argv[at + 1];
    if (v === undefined || v.startsWith('--')) fail(`${flag} needs a value`);
    return v;
  };
  const fail = (why: string): never => {
    console.error(`${why}\nusage: ${usage}`);
    process.exit(2);
  };
  const number = (flag: string, fallback: number, min: number): number => {
    const v = value(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) fail(`${flag} ${v}: expected a number >= ${min}`);
    return n;
  };
  return {
    rounds: Math.floor(number('--rounds', defaults.rounds, 1)),
    seconds: number('--seconds', defaults.seconds, 0.1),
    json: value('--json'),
  };
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The p-th percentile (0-100) of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

/** Prints rows as aligned columns (the first row is the heading). */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    );
}

/** Waits until `ready()` holds, polling every 10 ms; throws after `timeoutMs` naming `what`. */
export async function waitFor(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
