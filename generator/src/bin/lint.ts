/** `npm run lint`: loads spec/ and every release, runs every rule, prints file:line:col issues. */
import { resolve } from 'node:path';
import { checkRepository } from '../lint/index.js';
import { allVersions } from '../repository.js';
import { formatIssue } from '../yaml-file.js';

const root = resolve(process.argv[2] ?? '.');
const { repo, issues } = checkRepository(root);

for (const issue of issues) console.log(formatIssue(issue));
const versions = repo
  ? allVersions(repo)
      .map((m) => m.meta.version)
      .join(', ')
  : 'none';
if (issues.length > 0) {
  console.error(`\n${issues.length} problem(s) in the spec (versions checked: ${versions})`);
  process.exit(1);
}
console.log(`spec lint clean (versions checked: ${versions})`);
