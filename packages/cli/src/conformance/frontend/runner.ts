/**
 * Front-end mode: the suite serves a device (the transport's back-end behind the recorder) at
 * `listen`, waits for one front-end session to end, then judges what the front-end sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlkBackendDevice, NetSinkDevice, VhostUserBackend, type VhostUserDevice } from '@vhost-user/transport';
import type { Expectations } from '../expectations.js';
import type { CaseResult } from '../model.js';
import { applyExpectation, flagStale } from '../runner.js';
import { CaseSkipped, outcomeOfError } from '../session.js';
import { frontendCases, type FrontendCase } from './cases.js';
import { FrontendRecorder, type RecordedSession } from './recorder.js';

/** What the guest sees on COM1 when SeaBIOS boots the served disk. */
export const BOOT_MARKER = 'vhost-user conformance: booted';

/** 16-bit real-mode code at 0x7c00 that writes BOOT_MARKER to COM1 (port 0x3f8) and halts. */
export function bootSector(marker = BOOT_MARKER): Uint8Array {
  const code = [0xba, 0xf8, 0x03]; // mov dx, 0x3f8
  for (const ch of `${marker}\n`) code.push(0xb0, ch.charCodeAt(0), 0xee); // mov al, ch; out dx, al
  code.push(0xfa, 0xf4, 0xeb, 0xfd); // cli; hlt; jmp back to hlt
  if (code.length > 510) throw new Error('boot marker too long for one sector');
  const sector = new Uint8Array(512);
  sector.set(code);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

export interface FrontendRunOptions {
  listen: string;
  device?: 'blk' | 'net';
  /** Disk served to a blk front-end; default: a 1 MiB image whose boot sector prints BOOT_MARKER. */
  image?: string;
  /** Stop waiting after this many ms (undefined: until the session ends or `stop` resolves). */
  waitMs?: number;
  stop?: Promise<void>;
  expectations?: Expectations;
  cases?: FrontendCase[];
  /** Called once the suite listens (start the front-end now). */
  onListening?: () => void;
}

export interface FrontendRun {
  results: CaseResult[];
  session: RecordedSession | undefined;
  backendErrors: string[];
}

export function judge(
  cases: readonly FrontendCase[],
  session: RecordedSession | undefined,
  expectations?: Expectations,
): CaseResult[] {
  const results = cases.map((c) => {
    const started = Date.now();
    let outcome: CaseResult['outcome'] = 'pass';
    let detail: string | undefined;
    try {
      if (!session) throw new CaseSkipped('no front-end connected');
      c.check(session);
    } catch (error) {
      ({ outcome, detail } = outcomeOfError(error));
    }
    const result: CaseResult = {
      id: c.id,
      section: c.section,
      anchor: c.anchor,
      level: c.level,
      title: c.title,
      outcome,
      ms: Date.now() - started,
    };
    if (detail) result.detail = detail;
    applyExpectation(result, expectations);
    return result;
  });
  flagStale(results, expectations);
  return results;
}

export async function runFrontend(options: FrontendRunOptions): Promise<FrontendRun> {
  const dir = mkdtempSync(join(tmpdir(), 'vu-conformance-frontend-'));
  const backendErrors: string[] = [];
  let image = options.image;
  if ((options.device ?? 'blk') === 'blk' && !image) {
    image = join(dir, 'disk.img');
    const disk = new Uint8Array(1 << 20);
    disk.set(bootSector());
    writeFileSync(image, disk);
  }
  const createDevice = (): VhostUserDevice =>
    options.device === 'net' ? new NetSinkDevice() : new BlkBackendDevice(image as string);
  const backend = new VhostUserBackend(join(dir, 'backend.sock'), createDevice, {
    memoryBytes: 1 << 30,
    onError: (e) => backendErrors.push(e.message),
  });
  await backend.listen();
  const recorder = new FrontendRecorder(options.listen, join(dir, 'backend.sock'));
  try {
    await new Promise<void>((resolve) => {
      recorder.onSessionEnd = () => resolve();
      options.stop?.then(resolve);
      if (options.waitMs !== undefined) setTimeout(resolve, options.waitMs).unref();
      options.onListening?.();
    });
    const session = recorder.sessions[0];
    return { results: judge(options.cases ?? frontendCases(), session, options.expectations), session, backendErrors };
  } finally {
    recorder.close();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
