/**
 * The QEMU generations the interop, trace and conformance tests run against: Debian bookworm's
 * QEMU 7.2 (installed) and QEMU 10.0 from bookworm-backports, unpacked beside it by `.ci/qemu10`
 * (not installed, so it brings its own modules and firmware directory). CI exports the unpacked
 * root as VHOST_USER_QEMU10_ROOT; without it, outside CI, the 10.0 tests are skipped with a
 * message saying how to get it; in CI its absence is a failure.
 */
import { join } from 'node:path';
import { APT_QEMU, findProgram } from './peers.js';

export interface QemuGeneration {
  /** `QEMU 7.2` or `QEMU 10.0`: test names and matrix rows carry it. */
  label: string;
  /** Short form for file names and expectation ids: `7.2`, `10.0`. */
  id: string;
  system: string;
  storageDaemon: string;
  /** Environment for both programs (QEMU_MODULE_DIR for an unpacked QEMU). */
  env: NodeJS.ProcessEnv;
  /** Extra qemu-system arguments (firmware directories for an unpacked QEMU). */
  systemArgs: string[];
}

export const QEMU10_ENV = 'VHOST_USER_QEMU10_ROOT';
/** Debian's SeaBIOS directory (package seabios): the unpacked QEMU's firmware links point there. */
const SEABIOS_DIR = '/usr/share/seabios';

function qemu72(): QemuGeneration | string {
  const system = findProgram('qemu-system-x86_64');
  const storageDaemon = findProgram('qemu-storage-daemon');
  if (!system || !storageDaemon) return `QEMU 7.2 is not installed; install with: ${APT_QEMU}`;
  return { label: 'QEMU 7.2', id: '7.2', system, storageDaemon, env: process.env, systemArgs: [] };
}

function qemu100(): QemuGeneration | string {
  const root = process.env[QEMU10_ENV];
  if (!root)
    return `QEMU 10.0 not available: set ${QEMU10_ENV} to the root printed by \`.ci/qemu10 <cache dir>\` (it downloads Debian bookworm-backports' QEMU 10.0 and unpacks it there)`;
  const system = findProgram(join(root, 'usr/bin/qemu-system-x86_64'));
  const storageDaemon = findProgram(join(root, 'usr/bin/qemu-storage-daemon'));
  if (!system || !storageDaemon)
    return `${QEMU10_ENV}=${root} holds no usr/bin/qemu-system-x86_64 and qemu-storage-daemon`;
  return {
    label: 'QEMU 10.0',
    id: '10.0',
    system,
    storageDaemon,
    env: { ...process.env, QEMU_MODULE_DIR: join(root, 'usr/lib/x86_64-linux-gnu/qemu') },
    systemArgs: ['-L', join(root, 'usr/share/qemu'), '-L', SEABIOS_DIR],
  };
}

/** Each generation with either its programs or why it cannot run here (in CI a missing one throws). */
export function qemuGenerations(): { label: string; generation?: QemuGeneration; missing?: string }[] {
  return [
    ['QEMU 7.2', qemu72()],
    ['QEMU 10.0', qemu100()],
  ].map(([label, found]) => {
    if (typeof found !== 'string') return { label: label as string, generation: found };
    if (process.env.CI === 'true') throw new Error(`interop peer missing in CI: ${found}`);
    return { label: label as string, missing: found };
  });
}
