/** `vhost-user diff <from> <to>` as text, json and Markdown. */
import { describe, expect, it } from 'vitest';
import { vhostUser } from './helpers.js';

describe('vhost-user diff', () => {
  it('text: 1.1 -> 1.2 lists the SHMEM additions, nothing breaking', () => {
    const run = vhostUser(['diff', '1.1', '1.2']);
    expect(run.stdout).toMatch(/^Changes from 1\.1 to 1\.2: \d+ \(0 breaking, 0 of them approved\)/);
    expect(run.stdout).toContain(
      '  + VHOST_USER_PROTOCOL_F_SHMEM: added VHOST_USER_PROTOCOL_F_SHMEM as protocol-feature bit 22 (spec/releases/1.2/features/protocol.yaml:157:10)',
    );
    expect(run.stdout).not.toContain('BREAKING');
    expect(run.code).toBe(0);
  });

  it('json: the SpecDiff with counts', () => {
    const run = vhostUser(['diff', '1.0', '1.1', '--format', 'json']);
    const out = JSON.parse(run.stdout) as {
      from: string;
      to: string;
      counts: { breaking: number };
      changes: { rule?: string; breaking: boolean }[];
    };
    expect(out).toMatchObject({ from: '1.0', to: '1.1', counts: { breaking: 3 } });
    expect(out.changes.filter((c) => c.breaking).map((c) => c.rule)).toEqual([
      'precondition-strengthened',
      'ring-state-effect-changed',
      'anchor-removed',
    ]);
    expect(run.code).toBe(0);
  });

  it('markdown: a table per kind of item, breaking rules marked', () => {
    const run = vhostUser(['diff', '1.0', '1.1', '--format', 'markdown']);
    expect(run.stdout).toMatch(/^## Changes from 1\.0 to 1\.1\n/);
    expect(run.stdout).toContain('### Ring states');
    expect(run.stdout).toContain(
      '| changed | `VHOST_USER_SET_VRING_KICK` | VHOST_USER_SET_VRING_KICK: started (ring, first-kick) -> started (ring, immediate) | approved `ring-state-effect-changed` (BEHAVIOR): Release 1.1 follows the upstream text',
    );
    expect(run.code).toBe(0);
  });

  it('the draft can be either side; wrong arguments exit 2', () => {
    const draft = vhostUser(['diff', '1.2', 'draft', '--format', 'json']);
    expect(JSON.parse(draft.stdout)).toMatchObject({ from: '1.2', to: 'draft', counts: { breaking: 0 } });
    const one = vhostUser(['diff', '1.2']);
    expect(one.stderr).toContain('diff: expected two versions, e.g. vhost-user diff 1.1 1.2 (got 1)');
    expect(one.code).toBe(2);
  });
});
