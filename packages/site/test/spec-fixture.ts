/**
 * Builds a SpecView from the `spec:` part of a fixture YAML, validating each item with the
 * generator's zod schemas, so fixtures cannot drift from the real file format.
 */
import {
  Channel,
  ConstantsFile,
  EnumDef,
  HeaderFile,
  Message,
  Payload,
  ProtocolFeature,
  RegistryFile,
  RingLayoutFile,
  RulesFile,
  VirtioFeature,
} from '@vhost-user/generator';
import { z } from 'zod';
import type { SpecView } from '../src/spec-view.js';

const FixtureSpec = z.strictObject({
  version: z.string().default('draft'),
  messages: z.array(Message.extend({ channel: Channel })).default([]),
  protocolFeatures: z.array(ProtocolFeature).default([]),
  virtioFeatures: z.array(VirtioFeature).default([]),
  payloads: z.array(Payload).default([]),
  enums: z.array(EnumDef).default([]),
  constants: ConstantsFile.shape.constants.default([]),
  registry: RegistryFile.shape.registry.default([]),
  header: HeaderFile.optional(),
  rings: z.strictObject({ split: RingLayoutFile.optional(), packed: RingLayoutFile.optional() }).default({}),
  rules: RulesFile.optional(),
});

export function specFromFixture(data: unknown): SpecView {
  const spec = FixtureSpec.parse(data ?? {});
  return {
    version: spec.version,
    messages: spec.messages,
    protocolFeatures: spec.protocolFeatures,
    virtioFeatures: spec.virtioFeatures,
    structs: [...spec.payloads, ...(spec.rings.split?.structs ?? []), ...(spec.rings.packed?.structs ?? [])],
    enums: spec.enums,
    constants: spec.constants,
    registry: spec.registry,
    header: spec.header,
    rings: {
      ...(spec.rings.split ? { split: spec.rings.split } : {}),
      ...(spec.rings.packed ? { packed: spec.rings.packed } : {}),
    },
    rules: spec.rules,
  };
}
