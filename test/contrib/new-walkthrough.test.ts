/**
 * A contributor's walk with `vhost-user new`, in a temporary copy of the repository: one of each
 * kind, lint listing only the placeholders, then (placeholders written) a clean lint, the
 * generated sources and the site.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRepository, emitGenerated, type SpecIssue } from '@vhost-user/generator';
import { buildSite } from '../../packages/site/src/build.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const bin = join(repoRoot, 'packages/cli/bin/vhost-user.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'vhost-user-new-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const errors = (issues: SpecIssue[]) => issues.filter((i) => i.severity === 'error');

/** What a person writes in place of each placeholder. */
function fillPlaceholders(root: string, files: string[]): void {
  for (const rel of files) {
    const path = join(root, rel);
    const text = readFileSync(path, 'utf8')
      .replace(/"TODO:[^"]*"/g, '"Written by the contributor: the statistics of a shared memory region."')
      .replace(/^TODO:.*$/gm, 'Written by the contributor: the back-end reports shared memory usage.')
      .replace(/VHOST_USER_SH_MEM_STATS_KIND_TODO/g, 'VHOST_USER_SH_MEM_STATS_MAPPED');
    writeFileSync(path, text);
  }
}

describe('vhost-user new, from a clean tree to a clean lint, generate and site', () => {
  const root = join(scratch, 'repo');
  for (const path of ['spec', 'generated', 'CHANGELOG.md', 'GOVERNANCE.md'])
    cpSync(join(repoRoot, path), join(root, path), { recursive: true });

  const steps: { args: string[]; expect: RegExp; files: string[] }[] = [
    {
      args: ['feature', 'SHMEM_STATS'],
      expect: /added protocol feature VHOST_USER_PROTOCOL_F_SHMEM_STATS, bit 24/,
      files: ['spec/features/protocol.yaml', 'spec/prose/protocol-features.md'],
    },
    {
      args: ['payload', 'ShMemStats'],
      expect: /added payload ShMemStats in spec\/payloads\/sh-mem-stats\.yaml/,
      files: ['spec/payloads/sh-mem-stats.yaml', 'spec/prose/message-format.md'],
    },
    {
      args: ['enum', 'ShMemStatsKind'],
      expect: /added enum ShMemStatsKind/,
      files: ['spec/payloads/sh-mem-stats-kind.yaml', 'spec/prose/message-format.md'],
    },
    {
      args: ['message', 'GET_SHMEM_STATS', '--gate', 'SHMEM_STATS', '--request', 'ShMemStats'],
      expect: /added front-end request VHOST_USER_GET_SHMEM_STATS, id 46/,
      files: ['spec/messages/frontend.yaml', 'spec/prose/frontend-messages.md'],
    },
    {
      args: ['backend-message', 'SHMEM_STATS_CHANGED', '--gate', 'SHMEM_STATS'],
      expect: /added back-end request VHOST_USER_BACKEND_SHMEM_STATS_CHANGED, id 13/,
      files: ['spec/messages/backend.yaml', 'spec/prose/backend-messages.md', 'spec/rules/session.yaml'],
    },
  ];

  it('the starting tree lints clean', { timeout: 120_000 }, () => {
    expect(errors(checkRepository(root).issues)).toEqual([]);
  });

  it.each(steps)('new $args.0 scaffolds it and lint lists only the placeholders', { timeout: 180_000 }, (step) => {
    const r = run(['new', ...step.args], root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(step.expect);
    for (const file of step.files.filter((f) => !f.endsWith('session.yaml')))
      expect(r.stdout).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: error fill-in: `));
    const left = errors(checkRepository(root).issues);
    expect(left.length).toBeGreaterThan(0);
    expect(left.filter((i) => i.rule !== 'fill-in')).toEqual([]);
  });

  it('numbers never reuse a retired one, and the CHANGELOG names them', () => {
    // Back-end ids 11 and 12 are retired in the registry: the new request got 13.
    const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain('- Added back-end request `VHOST_USER_BACKEND_SHMEM_STATS_CHANGED` (id 13)');
    expect(changelog).toContain('- Added protocol feature `VHOST_USER_PROTOCOL_F_SHMEM_STATS` (bit 24) (proposed).');
    // The suspended-device rule selects every back-end request, so the new one joined it.
    expect(readFileSync(join(root, 'spec/rules/session.yaml'), 'utf8')).toContain(
      '      - VHOST_USER_BACKEND_SHMEM_STATS_CHANGED\n',
    );
  });

  it('with the placeholders written: lint clean, generate, site', async () => {
    fillPlaceholders(root, [...new Set(steps.flatMap((s) => s.files))]);
    const { repo, issues } = checkRepository(root);
    expect(errors(issues)).toEqual([]);
    const generated = await emitGenerated(repo as NonNullable<typeof repo>);
    const json = generated.get('generated/spec.json') ?? '';
    expect(json).toContain('VHOST_USER_GET_SHMEM_STATS');
    expect(json).toContain('ShMemStatsKind');
    const site = await buildSite({ root, outDir: join(scratch, 'site') });
    expect(site.warnings.filter((w) => /SHMEM_STATS|ShMemStats/.test(w))).toEqual([]);
    const page = readFileSync(join(scratch, 'site/latest/frontend-messages.html'), 'utf8');
    expect(page).toContain('id="VHOST_USER_GET_SHMEM_STATS"');
  }, 180_000);
});
