/** A breaking struct change names every message that carries the struct, directly or nested. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { carriersOf, diffModels, loadSpecFolder } from '../../src/index.js';

const root = new URL('../../../', import.meta.url).pathname;
const load = () => {
  const { model } = loadSpecFolder(join(root, 'spec/releases/1.2'), root);
  if (!model) throw new Error('release 1.2 does not load');
  return model;
};

describe('struct changes name their carriers', () => {
  it('MMap is carried by SHMEM_MAP and SHMEM_UNMAP; MemoryRegion only nested, by the memory requests', () => {
    const model = load();
    expect(carriersOf(model, 'MMap')).toEqual(['VHOST_USER_BACKEND_SHMEM_MAP', 'VHOST_USER_BACKEND_SHMEM_UNMAP']);
    expect(carriersOf(model, 'MemoryRegion')).toEqual(
      expect.arrayContaining(['VHOST_USER_SET_MEM_TABLE', 'VHOST_USER_ADD_MEM_REG', 'VHOST_USER_REM_MEM_REG']),
    );
  });

  it('a field change of MMap says which messages carry it', () => {
    const from = load();
    const to = load();
    const mmap = to.payloads.find((p) => p.name === 'MMap');
    const len = mmap?.fields.find((f) => f.name === 'len');
    if (!len) throw new Error('MMap.len not found');
    len.type = 'i64';
    const change = diffModels(from, to).changes.find((c) => c.rule === 'field-changed');
    expect(change?.summary).toMatch(/\(carried by VHOST_USER_BACKEND_SHMEM_MAP, VHOST_USER_BACKEND_SHMEM_UNMAP\)$/);
  });
});
