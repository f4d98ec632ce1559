/** The restart and migration cases against the TS back-end: they pass when it offers the
 *  features, fail when it claims logging without marking, and skip when the features are off. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlkBackendDevice, DirtyLog, VhostUserBackend, type BackendOptions } from '@vhost-user/transport';
import { migrationCases } from '../../src/conformance/migration-cases.js';
import { runCases } from '../../src/conformance/runner.js';

const dir = mkdtempSync(join(tmpdir(), 'vu-conf-mig-'));
const image = join(dir, 'disk.img');
writeFileSync(image, Buffer.alloc(1 << 20));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The blk device plus a byte-string state, so DEVICE_STATE is offered. */
class StatefulBlk extends BlkBackendDevice {
  saveState(): Uint8Array {
    return new Uint8Array([1]);
  }
  loadState(): void {}
}

let n = 0;
async function run(options: BackendOptions, stateful = false) {
  const socket = join(dir, `b${n++}.sock`);
  const backend = await VhostUserBackend.listen(
    socket,
    () => (stateful ? new StatefulBlk(image) : new BlkBackendDevice(image)),
    {
      memoryBytes: 64 << 20,
      ...options,
    },
  );
  try {
    const results = await runCases(migrationCases(), { socket, device: 'blk', timeoutMs: 1000 });
    return Object.fromEntries(results.map((r) => [r.id, `${r.outcome}${r.outcome === 'pass' ? '' : `: ${r.detail}`}`]));
  } finally {
    backend.close();
  }
}

describe('conformance: restart and migration cases', () => {
  it('pass against the TS back-end with every feature on', async () => {
    const outcomes = await run({}, true);
    expect(outcomes).toEqual({
      'inflight/get-inflight-fd-returns-buffer': 'pass',
      'migration/set-log-base-answered': 'pass',
      'migration/log-marks-device-writes': 'pass',
      'reset/reset-device-keeps-session': 'pass',
      'device-state/unknown-phase-refused': 'pass',
    });
  });

  it('are skipped when the back-end does not offer the features', async () => {
    const outcomes = await run({ inflight: false, dirtyLog: false });
    for (const id of ['inflight/get-inflight-fd-returns-buffer', 'migration/log-marks-device-writes'])
      expect(outcomes[id]).toMatch(/^skip/);
    expect(outcomes['device-state/unknown-phase-refused']).toMatch(/^skip/);
  });

  it('fail a back-end that claims logging but does not mark its writes', async () => {
    const markRange = DirtyLog.prototype.markRange;
    DirtyLog.prototype.markRange = () => {};
    try {
      const outcomes = await run({});
      expect(outcomes['migration/log-marks-device-writes']).toMatch(/^fail: page \d+ .* was written but not logged/);
    } finally {
      DirtyLog.prototype.markRange = markRange;
    }
  });
});
