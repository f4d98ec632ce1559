/** Message and feature history, from the generator's semantic diff between releases. */
import { compareVersions, diffModels, loadRepository } from '@vhost-user/generator';
import { describe, expect, it } from 'vitest';
import { historyFor } from '../src/history/history.js';
import { REPO_ROOT } from './build-output.js';

const { repo } = loadRepository(REPO_ROOT);
const models = repo
  ? [...repo.releases, repo.draft].sort((a, b) => compareVersions(a.meta.version, b.meta.version))
  : [];
const diffs = models.slice(1).map((to, i) => diffModels(models[i]!, to));

describe('historyFor', () => {
  it('dates an item from the release that added it', () => {
    const history = historyFor(models, diffs, 'draft');
    const shmem = history('feature', 'VHOST_USER_PROTOCOL_F_SHMEM');
    expect(shmem[0]).toMatchObject({ version: '1.2', kind: 'added' });
    expect(history('message', 'VHOST_USER_GET_FEATURES')[0]).toEqual({
      version: '1.0',
      kind: 'added',
      summary: 'first specified',
      normative: false,
    });
    // 1.1 changed how SET_VRING_KICK starts a ring: its history says so, as a normative change.
    expect(history('message', 'VHOST_USER_SET_VRING_KICK')).toContainEqual({
      version: '1.1',
      kind: 'changed',
      summary: 'ring state: started (ring, first-kick) → started (ring, immediate)',
      normative: true,
    });
  });

  it('shows an older version only the changes up to it', () => {
    const latest = historyFor(models, diffs, 'draft')('message', 'VHOST_USER_BACKEND_SHARED_OBJECT_ADD');
    const at11 = historyFor(models, diffs, '1.1')('message', 'VHOST_USER_BACKEND_SHARED_OBJECT_ADD');
    expect(at11.every((e) => compareVersions(e.version, '1.1') <= 0)).toBe(true);
    expect(latest.length).toBeGreaterThan(at11.length);
    expect(latest.some((e) => e.version === '1.2' && e.kind === 'changed')).toBe(true);
  });

  it('has nothing for a name no version knows', () => {
    expect(historyFor(models, diffs, 'draft')('message', 'VHOST_USER_NOT_A_MESSAGE')).toEqual([]);
  });
});
