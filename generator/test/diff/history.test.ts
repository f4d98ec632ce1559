/** The diff engine on the repository's real releases. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffGeneratedApi, diffModels, loadSpecFolder, type SpecModel } from '../../src/index.js';
import { repoRoot } from './pairs.js';

function release(version: string): SpecModel {
  const { model, issues } = loadSpecFolder(join(repoRoot, 'spec/releases', version), repoRoot);
  if (!model) throw new Error(issues.map((i) => i.message).join('; '));
  return model;
}

describe('real history', () => {
  const v10 = release('1.0');
  const v11 = release('1.1');
  const v12 = release('1.2');

  it('1.1 -> 1.2 reports the SHMEM additions as non-breaking', () => {
    const diff = diffModels(v11, v12);
    expect(diff.changes.filter((c) => c.breaking)).toEqual([]);
    const added = diff.changes.filter((c) => c.kind === 'added').map((c) => `${c.entity} ${c.name}`);
    expect(added).toEqual(
      expect.arrayContaining([
        'protocol-feature VHOST_USER_PROTOCOL_F_SHMEM',
        'message VHOST_USER_GET_SHMEM_CONFIG',
        'message VHOST_USER_BACKEND_SHMEM_MAP',
        'message VHOST_USER_BACKEND_SHMEM_UNMAP',
        'payload MMap',
        'payload ShMemConfig',
        'enum MMapFlags',
        'constant VHOST_USER_MAX_SHMEM_REGIONS',
      ]),
    );
    const shmem = diff.changes.find((c) => c.name === 'VHOST_USER_PROTOCOL_F_SHMEM');
    expect(shmem?.summary).toBe('added VHOST_USER_PROTOCOL_F_SHMEM as protocol-feature bit 22');
    expect(shmem?.loc).toEqual({ file: 'spec/releases/1.2/features/protocol.yaml', line: 157, column: 10 });
  });

  it('1.1 -> 1.2: a precondition that only binds new features, and new messages added to an old one, break nothing', () => {
    const diff = diffModels(v11, v12);
    const names = diff.changes.filter((c) => c.entity === 'precondition').map((c) => `${c.kind} ${c.name}`);
    expect(names).toEqual(['changed suspended-device-sends-nothing', 'added skip-drain-needs-inflight']);
  });

  it('1.0 -> 1.1 flags the ring start rule change and the new suspended-device rule for review', () => {
    const diff = diffModels(v10, v11);
    const rules = diff.changes.filter((c) => c.breaking).map((c) => `${c.rule} ${c.name}`);
    expect(rules).toEqual([
      'precondition-strengthened suspended-device-sends-nothing',
      'ring-state-effect-changed VHOST_USER_SET_VRING_KICK',
      'anchor-removed kicking-after-set-up',
    ]);
    expect(diff.changes.find((c) => c.rule === 'ring-state-effect-changed')?.category).toBe('BEHAVIOR');
  });

  it('a version compared with itself has no changes', () => {
    expect(diffModels(v12, release('1.2')).changes).toEqual([]);
  });

  it(
    'the generated TypeScript API of 1.1 -> 1.2 gains the SHMEM names and loses none',
    { timeout: 300_000 },
    async () => {
      const api = await diffGeneratedApi(v11, v12);
      const protocol = api.files.find((f) => f.file === 'protocol.ts');
      expect(protocol?.removed).toEqual([]);
      expect(protocol?.added).toContain('const VHOST_USER_MAX_SHMEM_REGIONS');
      expect(protocol?.changed).toContain(
        'FrontendRequest: +VHOST_USER_GET_SHMEM_CONFIG, +VHOST_USER_GET_VRING_BASE_SKIP_DRAIN',
      );
      expect(protocol?.changed).toContain(
        'BackendRequest: +VHOST_USER_BACKEND_SHMEM_MAP, +VHOST_USER_BACKEND_SHMEM_UNMAP',
      );
      const payloads = api.files.find((f) => f.file === 'payloads.ts');
      expect(payloads?.added).toEqual(expect.arrayContaining(['interface MMap', 'const MMapFlags']));
      expect(api.files.flatMap((f) => f.removed)).toEqual([]);
    },
  );
});
