#!/usr/bin/env node
// Entry point of the `vhost-user` command.
//
// Installed from its package, the command runs the compiled code in dist/. In a checkout of
// the repository (src/ is there; the package never ships it), it runs the TypeScript sources
// through tsx and resolves the sibling workspaces through their "@vhost-user/source" export
// condition, so it works right after `npm ci`, with no build step and never on a stale build.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const source = new URL('../src/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  register(
    'data:text/javascript,export async function resolve(specifier, context, next) { return next(specifier, { ...context, conditions: [...context.conditions, "@vhost-user/source"] }); }',
  );
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
