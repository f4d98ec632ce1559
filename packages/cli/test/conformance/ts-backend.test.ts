/** The project's own back-end (BlkBackendDevice on VhostUserBackend) passes every MUST case. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlkBackendDevice, VhostUserBackend } from '@vhost-user/transport';
import { allCases } from '../../src/conformance/cases.js';
import { mustCasesHold, type CaseResult } from '../../src/conformance/model.js';
import { runCases } from '../../src/conformance/runner.js';

describe('conformance: the TypeScript blk back-end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vu-conf-ts-'));
  const socket = join(dir, 'blk.sock');
  const image = join(dir, 'disk.img');
  let backend: VhostUserBackend;
  let results: CaseResult[];

  beforeAll(async () => {
    writeFileSync(image, Buffer.alloc(1 << 20));
    backend = new VhostUserBackend(socket, () => new BlkBackendDevice(image), { memoryBytes: 64 << 20 });
    await backend.listen();
    results = await runCases(allCases(), { socket, device: 'blk', timeoutMs: 1000 });
  });
  afterAll(() => {
    backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every MUST case', () => {
    const failed = results.filter((r) => r.level === 'MUST' && r.outcome !== 'pass' && r.outcome !== 'skip');
    expect(failed.map((r) => `${r.id}: ${r.detail}`)).toEqual([]);
    expect(mustCasesHold(results)).toBe(true);
  });

  it('runs the data-path cases rather than skipping them', () => {
    const ran = (id: string) => results.find((r) => r.id === id)?.outcome;
    for (const id of [
      'rings/start-on-kick',
      'rings/stop-on-get-vring-base',
      'rings/resume-with-set-vring-base',
      'memory/live-replacement',
      'memory/add-remove-region',
      'rings/disabled-until-enable',
      'config/too-large',
    ])
      expect(ran(id), id).toBe('pass');
  });

  it('reports every case once', () => {
    for (const r of results) if (r.outcome !== 'pass') console.log(`${r.outcome} ${r.level} ${r.id}: ${r.detail}`);
    expect(new Set(results.map((r) => r.id)).size).toBe(results.length);
  });
});
