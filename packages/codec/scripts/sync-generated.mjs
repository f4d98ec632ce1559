// Copies the generator's TypeScript output (generated/ts/) into src/generated/ so the package
// compiles it into dist/. The copy is build output (gitignored); generated/ts is the source.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../../../generated/ts/', import.meta.url));
const to = fileURLToPath(new URL('../src/generated/', import.meta.url));
if (!existsSync(from)) {
  console.error(`missing ${from}: run npm run generate at the repository root`);
  process.exit(1);
}
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
