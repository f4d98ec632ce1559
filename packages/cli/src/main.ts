/** The `vhost-user` command line: dispatches to one module per subcommand. */
import { BREAKING_HELP, runBreaking } from './commands/breaking.js';
import { DECODE_HELP, runDecode } from './commands/decode.js';
import { DIFF_HELP, runDiff } from './commands/diff.js';
import { EXPORT_HELP, runExport } from './commands/export.js';
import { LINT_HELP, runLint } from './commands/lint.js';
import { NEW_HELP, runNew } from './commands/new.js';
import { RULES_HELP, runRules } from './commands/rules.js';
import { RELEASE_HELP, runRelease } from './commands/release.js';
import { REVIEW_HELP, runReview } from './commands/review.js';
import { SpecLoadFailure, UsageError } from './errors.js';
import { processIo, type Io } from './io.js';

// conformance and trace load the transport (a native addon) only when they run, so the spec
// commands work where the addon is not built.
const CONFORMANCE_HELP =
  'vhost-user conformance --backend <socket> [--spawn "<cmd>"] [--device auto|generic|blk|net|entropy] [--impl <name>] [--only <section>] [--list] [--format text|json|junit]\n  vhost-user conformance --frontend --listen <socket> [--device blk|net] [--image <file>] [--wait <ms>] [--impl <name>] [--only <section>] [--list] [--format ...]';
const TRACE_HELP =
  'vhost-user trace --listen <socket> --connect <socket> [--json] [--filter <name,...>] [--once]   proxy and decode a session';

const USAGE = [
  'usage:',
  `  ${NEW_HELP}`,
  `  ${LINT_HELP}`,
  `  ${BREAKING_HELP}`,
  `  ${DIFF_HELP}`,
  `  ${REVIEW_HELP}`,
  `  ${RELEASE_HELP}`,
  `  ${CONFORMANCE_HELP}`,
  `  ${TRACE_HELP}`,
  `  ${DECODE_HELP}`,
  `  ${EXPORT_HELP}`,
  `  ${RULES_HELP}`,
  'Spec commands take --root <dir> (default: the nearest folder with spec/spec.yaml); lint, breaking and diff\n  also take --spec <dir>, a spec folder anywhere (the folder holding spec.yaml).',
  'Exit codes: 0 ok, 1 problems found (lint issues, breaking changes, release refused), 2 usage or load errors.',
].join('\n');

const COMMANDS: Record<string, (argv: string[], io: Io) => number | Promise<number>> = {
  lint: runLint,
  breaking: runBreaking,
  diff: runDiff,
  review: runReview,
  release: runRelease,
  conformance: async (argv, io) => (await import('./commands/conformance.js')).runConformance(argv, io),
  trace: async (argv, io) => (await import('./commands/trace.js')).runTrace(argv, io),
  decode: runDecode,
  export: runExport,
  new: runNew,
  rules: runRules,
};

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    (command ? io.out : io.err)(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.err(`vhost-user: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  try {
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`vhost-user ${command}: ${error.message}`);
      return 2;
    }
    if (error instanceof SpecLoadFailure) {
      io.err(`vhost-user ${command}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
