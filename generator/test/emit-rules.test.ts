/** The rules emitter: preconditions with bits resolved, and a clarification's upstream level carried along. */
import { Project } from 'ts-morph';
import { describe, expect, it } from 'vitest';
import { emitRules } from '../src/emit/ts/rules.js';
import type { SpecModel } from '../src/load.js';

function emit(preconditions: object[]): string {
  const model = {
    protocolFeatures: [{ name: 'VHOST_USER_PROTOCOL_F_MQ', bit: 0 }],
    virtioFeatures: [{ name: 'VHOST_USER_F_PROTOCOL_FEATURES', bit: 30 }],
    rules: { preconditions },
  } as unknown as SpecModel;
  const file = new Project({ useInMemoryFileSystem: true }).createSourceFile('rules.ts');
  emitRules(file, model);
  return file.getFullText();
}

const row = {
  id: 'x-after-y',
  level: 'MUST',
  actor: 'frontend',
  kind: 'send-only-when',
  messages: ['VHOST_USER_GET_QUEUE_NUM'],
  condition: {
    all: [{ protocolFeature: 'VHOST_USER_PROTOCOL_F_MQ' }, { virtioFeatureOffered: 'VHOST_USER_F_PROTOCOL_FEATURES' }],
  },
  summary: 'A summary.',
  since: '1.0',
};

describe('emitRules', () => {
  it('resolves feature names to bits', () => {
    expect(emit([row])).toContain('condition: { all: [{ protocolFeature: 0 }, { virtioFeatureOffered: 30 }] }');
  });

  it("carries a clarification's upstream level, and nothing for an upstream rule", () => {
    const clarified = {
      ...row,
      provenance: { source: 'clarification', reason: 'r', agree: [], upstreamLevel: 'none' },
    };
    expect(emit([clarified])).toContain("upstreamLevel: 'none'");
    const upstream = { ...row, provenance: { source: 'upstream', qemu: 'v9.2.0' } };
    expect(emit([upstream])).not.toContain('upstreamLevel:');
  });

  it('names an unknown feature instead of emitting a wrong bit', () => {
    expect(() => emit([{ ...row, condition: { protocolFeature: 'VHOST_USER_PROTOCOL_F_NOPE' } }])).toThrow(
      /unknown protocol feature VHOST_USER_PROTOCOL_F_NOPE/,
    );
  });
});
