#!/usr/bin/env node
// Entry point of the `vhost-user` command. Runs the TypeScript sources through tsx, and resolves
// the workspace packages through their "source" export condition, so the command works in the
// repository right after `npm ci`, with no build step.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register(
  'data:text/javascript,export async function resolve(specifier, context, next) { return next(specifier, { ...context, conditions: [...context.conditions, "source"] }); }',
);
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
