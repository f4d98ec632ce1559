/**
 * What GOVERNANCE.md says about acknowledgements, read from its "Implementations" table so the
 * review report and the document cannot disagree about who maintains what.
 */
import { readImplementations, type Change, type ImplementationEntry, type SpecModel } from '@vhost-user/generator';

export { readImplementations, type ImplementationEntry };

export interface AcknowledgementNeed {
  /** Why acknowledgement is needed (the GOVERNANCE.md rule). */
  reason: string;
  /** `all`: every implementation; `two-projects`: any two from different projects; `listed`: these. */
  who: 'all' | 'two-projects' | 'listed';
  implementations: string[];
  items: string[];
}

/** Implementations named by the divergences of an item of the newer version. */
function divergentImplementations(model: SpecModel, change: Change): string[] {
  const items: { name: string; divergences?: { implementations: string[] }[] }[] = [
    ...model.messages,
    ...model.protocolFeatures,
    ...model.payloads,
    ...model.enums,
  ];
  const item = items.find((i) => i.name === change.name);
  return [...new Set((item?.divergences ?? []).flatMap((d) => d.implementations).filter((i) => i !== 'spec-text'))];
}

/** The acknowledgements GOVERNANCE.md asks for, given the changes of a pull request. */
export function acknowledgementsNeeded(
  changes: Change[],
  to: SpecModel,
  implementations: ImplementationEntry[],
): AcknowledgementNeed[] {
  const all = implementations.map((i) => i.id);
  const needs: AcknowledgementNeed[] = [];
  const breaks = changes.filter((c) => c.breaking && (c.category === 'WIRE' || c.category === 'BEHAVIOR'));
  if (breaks.length > 0) {
    needs.push({
      reason: 'a breaking WIRE or BEHAVIOR change (approved in spec/approvals.yaml)',
      who: 'all',
      implementations: all,
      items: [...new Set(breaks.map((c) => `${c.name} (${c.rule})`))],
    });
  }
  const additions = changes.filter(
    (c) =>
      c.kind === 'added' &&
      (c.entity === 'message' ||
        c.entity === 'protocol-feature' ||
        c.entity === 'virtio-feature' ||
        c.entity === 'payload'),
  );
  if (additions.length > 0) {
    needs.push({
      reason: 'a new message, feature bit or payload',
      who: 'two-projects',
      implementations: all,
      items: additions.map((c) => c.name),
    });
  }
  const touched = new Map<string, Set<string>>();
  for (const c of changes) {
    if (c.kind !== 'changed') continue;
    for (const impl of divergentImplementations(to, c)) {
      if (!touched.has(impl)) touched.set(impl, new Set());
      touched.get(impl)?.add(c.name);
    }
  }
  if (touched.size > 0) {
    needs.push({
      reason: 'a change to an item with a recorded divergence',
      who: 'listed',
      implementations: [...touched.keys()].sort(),
      items: [...new Set([...touched.values()].flatMap((s) => [...s]))].sort(),
    });
  }
  return needs;
}
