// Build step of @vhost-user/cli: copies the data files the compiled code reads at run time
// (implementation expectations, YAML) next to it in dist/, where tsc does not put them.
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../src/conformance/expectations/', import.meta.url));
const to = fileURLToPath(new URL('../dist/conformance/expectations/', import.meta.url));
cpSync(from, to, { recursive: true });
