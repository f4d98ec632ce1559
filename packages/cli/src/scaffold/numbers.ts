/**
 * Picking the number of a new message or feature bit: one above every number the space has
 * ever used, in the draft, in any release or in the registry (reserved, retired, proposed), so
 * a number once given out is never handed to something else (GOVERNANCE.md, "Numbers").
 */
import { allVersions, type SpecRepository } from '@vhost-user/generator';

export type NumberSpace = 'frontend' | 'backend' | 'protocol-feature';

/** Every number `space` has used, with what used it, across all versions and registries. */
export function usedNumbers(repo: SpecRepository, space: NumberSpace): Map<number, string> {
  const used = new Map<number, string>();
  const take = (n: number, what: string) => {
    if (!used.has(n)) used.set(n, what);
  };
  for (const model of allVersions(repo)) {
    const where = model.meta.version === 'draft' ? 'the draft' : `release ${model.meta.version}`;
    if (space === 'protocol-feature') for (const b of model.protocolFeatures) take(b.bit, `${b.name} (${where})`);
    else for (const m of model.messages) if (m.channel === space) take(m.id, `${m.name} (${where})`);
    for (const r of model.registry) if (r.space === space) take(r.number, `${r.name} (registry, ${r.status})`);
  }
  return used;
}

/** The next free number: one above the highest ever used (gaps are left alone: they may be history). */
export function nextNumber(repo: SpecRepository, space: NumberSpace): number {
  const used = [...usedNumbers(repo, space).keys()];
  const next = used.length === 0 ? (space === 'protocol-feature' ? 0 : 1) : Math.max(...used) + 1;
  if (space === 'protocol-feature' && next > 63)
    throw new Error('every protocol feature bit 0-63 is taken; a new bit needs an editor decision');
  return next;
}
