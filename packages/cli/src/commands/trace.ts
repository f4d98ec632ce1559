/** `vhost-user trace`: a transparent proxy that decodes every message it forwards. */
import { parse } from '../args.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { startTrace } from '../trace/proxy.js';

export async function runTrace(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    {
      listen: { type: 'string' },
      connect: { type: 'string' },
      json: { type: 'boolean' },
      filter: { type: 'string' },
      once: { type: 'boolean' },
    },
    'trace',
  );
  if (typeof values.listen !== 'string' || typeof values.connect !== 'string')
    throw new UsageError('trace: --listen <socket> and --connect <socket> are required');
  const filter =
    typeof values.filter === 'string' ? values.filter.split(',').map((f) => f.trim().toUpperCase()) : undefined;
  const tracer = startTrace({
    listen: values.listen,
    connect: values.connect,
    json: Boolean(values.json),
    filter,
    out: (line) => io.out(line),
  });
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // --once: the first session's end stops the tracer (scripts and tests).
    if (values.once) tracer.onSessionEnd = stop;
  });
  tracer.close();
  return tracer.violations > 0 ? 1 : 0;
}
