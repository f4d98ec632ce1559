/** Each seeded bug of the broken back-end is caught, by the case written for that rule. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allCases } from '../../src/conformance/cases.js';
import { runCases } from '../../src/conformance/runner.js';
import { BrokenBackend, type Bug } from './broken-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'vu-conf-broken-'));
const image = join(dir, 'disk.img');
writeFileSync(image, Buffer.alloc(1 << 20));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The bug and the case that must catch it. */
const CATCHES: [Bug, string][] = [
  ['ignores-need-reply', 'reply-ack/SET_VRING_NUM'],
  ['short-get-vring-base-reply', 'rings/get-vring-base-returns-base'],
  ['accepts-ungated', 'gating/GET_QUEUE_NUM'],
  ['leaks-fds', 'fds/unexpected-fd-closed'],
  ['enables-on-kick', 'rings/disabled-until-enable'],
  ['resets-on-get-vring-base', 'rings/stop-on-get-vring-base'],
  ['acks-answered-requests', 'reply-ack/GET_QUEUE_NUM-answered-once'],
  ['ignores-reset-device', 'rings/reset-device-reinitialises'],
];

describe('conformance: the broken back-end', () => {
  for (const [bug, caseId] of CATCHES) {
    it(`catches ${bug} with ${caseId}`, async () => {
      const socket = join(dir, `${bug}.sock`);
      const broken = new BrokenBackend(socket, join(dir, `${bug}-inner.sock`), image, bug);
      try {
        const cases = allCases().filter((c) => c.id === caseId || c.id === 'rings/start-on-kick');
        expect(cases).toHaveLength(2);
        const results = await runCases(cases, { socket, device: 'blk', timeoutMs: 500 });
        const caught = results.find((r) => r.id === caseId);
        expect(caught?.outcome, caught?.detail).toBe('fail');
        // The same proxy with this bug still serves a plain data path for the cases the bug does
        // not touch, so the failure is the rule's and not a broken harness.
        if (bug !== 'ignores-need-reply')
          expect(results.find((r) => r.id === 'rings/start-on-kick')?.outcome).toBe('pass');
      } finally {
        broken.close();
      }
    });
  }
});
