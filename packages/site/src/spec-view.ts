/**
 * The slice of a spec version the renderers read. A full SpecModel provides all of it; the
 * fixture tests build one from a small YAML file, so each plugin can be tested on its own.
 */
import type {
  ChannelMessage,
  EnumDef,
  HeaderFile,
  NamedConstant,
  Payload,
  ProtocolFeature,
  RegistryEntry,
  RingLayoutFile,
  RulesFile,
  SpecModel,
  VirtioFeature,
} from '@vhost-user/generator';

export interface SpecView {
  /** `draft` or a release number. */
  version: string;
  messages: ChannelMessage[];
  protocolFeatures: ProtocolFeature[];
  virtioFeatures: VirtioFeature[];
  /** Payloads and ring structs: everything a `::payload` marker or a field type can name. */
  structs: Payload[];
  enums: EnumDef[];
  constants: NamedConstant[];
  registry: RegistryEntry[];
  header?: HeaderFile;
  rings: Partial<Record<'split' | 'packed', RingLayoutFile>>;
  rules?: RulesFile;
}

export function viewOf(model: SpecModel): SpecView {
  return {
    version: model.meta.version,
    messages: model.messages,
    protocolFeatures: model.protocolFeatures,
    virtioFeatures: model.virtioFeatures,
    structs: [...model.payloads, ...model.rings.split.structs, ...model.rings.packed.structs],
    enums: model.enums,
    constants: model.constants,
    registry: model.registry,
    header: model.header,
    rings: model.rings,
    rules: model.rules,
  };
}

/** What a name in the text stands for, and the anchor of its section. */
export interface NameTarget {
  anchor: string;
  /** Shown as the link's title: "message", "protocol feature bit 3", "former name of ...". */
  title: string;
}

/**
 * Every message and feature name (and alias) that has its own section. Sections are named
 * after the canonical name, so the anchor is that name (see the generator's anchorFor).
 */
export function linkTargets(spec: SpecView): Map<string, NameTarget> {
  const targets = new Map<string, NameTarget>();
  const add = (name: string, aliases: string[] | undefined, title: string): void => {
    targets.set(name, { anchor: name, title });
    for (const alias of aliases ?? []) {
      if (!targets.has(alias)) targets.set(alias, { anchor: name, title: `former name of ${name}` });
    }
  };
  for (const m of spec.messages)
    add(m.name, m.aliases, `${m.channel === 'frontend' ? 'front-end' : 'back-end'} request ${m.id}`);
  for (const b of spec.protocolFeatures) add(b.name, b.aliases, `protocol feature bit ${b.bit}`);
  for (const b of spec.virtioFeatures) add(b.name, b.aliases, `virtio feature bit ${b.bit}`);
  return targets;
}
