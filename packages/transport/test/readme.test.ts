/**
 * The README's examples, run exactly as printed: each `ts file=NAME` block is written out and run
 * with Node (TypeScript through tsx, the package through its "@vhost-user/source" export) in a scratch
 * directory holding a disk image; the back-ends are stopped with Ctrl-C (SIGINT) as a user would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtioFeature, featureMask, hasFeature } from '@vhost-user/codec';
import { DriverQueue, FrontendGuestMemory, VhostUserFrontend } from '@vhost-user/transport';

const here = fileURLToPath(new URL('.', import.meta.url));
/** tsx's loader, found from here (the scripts run with another working directory). */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const readme = readFileSync(join(here, '../README.md'), 'utf8');
const examples = new Map([...readme.matchAll(/```ts file=(\S+)\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]));

// The scripts live inside the package so that '@vhost-user/...' resolves; they run elsewhere.
const scripts = join(here, `.readme-${process.pid}`);
const cwd = mkdtempSync(join(tmpdir(), 'vu-readme-'));
mkdirSync(scripts);
writeFileSync(join(cwd, 'disk.img'), Buffer.alloc(4 << 20));
const running: ChildProcess[] = [];
afterAll(() => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGKILL');
  rmSync(scripts, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(name: string): Run {
  const code = examples.get(name);
  if (!code) throw new Error(`README has no \`ts file=${name}\` block`);
  const path = join(scripts, name);
  writeFileSync(path, code);
  const child = spawn(process.execPath, ['--conditions=@vhost-user/source', '--import', tsx, path], { cwd });
  running.push(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(r: Run, text: string): Promise<void> {
  for (let i = 0; i < 3000 && !r.output().includes(text); i++) {
    if (r.child.exitCode !== null) break;
    await new Promise((res) => setTimeout(res, 10));
  }
  expect(r.output()).toContain(text);
}

describe('README examples', { timeout: 120_000 }, () => {
  it('has the three examples', () => {
    expect([...examples.keys()]).toEqual(['backend.ts', 'entropy.ts', 'client.ts']);
  });

  it('the back-end serves the client; Ctrl-C closes it and removes its socket', async () => {
    const backend = run('backend.ts');
    await waitFor(backend, 'serving disk.img on vhost-blk.sock');
    const client = run('client.ts');
    expect(await client.exited).toBe(0);
    expect(client.output()).toContain(`${4 << 20} bytes, id vhost-user-ts`);
    expect(client.output()).toContain('hello, vhost-user');
    expect(readFileSync(join(cwd, 'disk.img')).subarray(4096, 4113).toString()).toBe('hello, vhost-user');
    backend.child.kill('SIGINT');
    expect(await backend.exited).toBe(0);
    expect(existsSync(join(cwd, 'vhost-blk.sock'))).toBe(false);
    expect(backend.output()).not.toContain('vhost-user:'); // no error reported
  });

  it('the custom entropy device fills a buffer of a TS front-end with random bytes', async () => {
    const device = run('entropy.ts');
    await waitFor(device, 'entropy on vhost-rng.sock');
    const memory = new FrontendGuestMemory({ size: 1 << 20 });
    const fe = VhostUserFrontend.connect(join(cwd, 'vhost-rng.sock'));
    try {
      const negotiated = await fe.handshake(
        featureMask(VirtioFeature.VIRTIO_F_VERSION_1, VirtioFeature.VIRTIO_F_EVENT_IDX),
      );
      await fe.setFeatures();
      await fe.setMemory(memory);
      const eventIdx = hasFeature(negotiated.features, VirtioFeature.VIRTIO_F_EVENT_IDX);
      expect(eventIdx).toBe(true);
      const queue = await DriverQueue.start(fe, memory, 0, 16, 'wasm', { eventIdx });
      const buffer = memory.allocate(256);
      expect(await queue.submit([{ guestAddr: buffer, length: 256, writable: true }])).toBe(256);
      expect(memory.view(buffer, 256).some((b) => b !== 0)).toBe(true);
      queue.close();
    } finally {
      fe.close();
      memory.close();
    }
    device.child.kill('SIGINT');
    expect(await device.exited).toBe(0);
  });
});
