/**
 * The resolved model as JSON, for consumers in any language: generated/spec.json for the
 * draft and generated/releases/<version>.json for each frozen release. The shape is
 * documented in README.md ("generated/spec.json").
 */
import { proseClarifications } from '../provenance.js';
import type { SpecModel } from '../load.js';
import type { Message, Payload } from '../schema.js';

export const JSON_FORMAT_VERSION = 1;

function replyPayload(message: Message): string | null {
  return message.reply.kind === 'always' || message.reply.kind === 'conditional' ? message.reply.payload : null;
}

function payloadJson(p: Payload) {
  return {
    name: p.name,
    title: p.title,
    size: p.size,
    ...(p.maxSize !== undefined ? { maxSize: p.maxSize } : {}),
    ...(p.opaque ? { opaque: true } : {}),
    ...(p.cName ? { cName: p.cName } : {}),
    fields: p.fields,
    ...(p.extension ? { extension: p.extension } : {}),
    since: p.since,
    doc: p.doc,
    divergences: p.divergences ?? [],
  };
}

export function specToJson(model: SpecModel) {
  return {
    format: JSON_FORMAT_VERSION,
    version: model.meta.version,
    title: model.meta.title,
    status: model.meta.status,
    previous: model.meta.previous,
    release: model.meta.release,
    header: model.header,
    messages: model.messages.map((m) => ({
      name: m.name,
      id: m.id,
      channel: m.channel,
      aliases: m.aliases ?? [],
      summary: m.summary,
      ioctl: m.ioctl,
      request: m.request,
      reply: replyPayload(m),
      replyRule: m.reply,
      fds: m.fds,
      gate: { protocolFeatures: m.gate.protocolFeatures ?? [], virtioFeatures: m.gate.virtioFeatures ?? [] },
      since: m.since,
      status: m.status,
      divergences: m.divergences ?? [],
    })),
    protocolFeatures: model.protocolFeatures.map((b) => ({
      name: b.name,
      bit: b.bit,
      aliases: b.aliases ?? [],
      summary: b.summary,
      requires: b.requires ?? [],
      since: b.since,
      status: b.status,
      divergences: b.divergences ?? [],
    })),
    virtioFeatures: model.virtioFeatures.map((b) => ({ ...b, aliases: b.aliases ?? [] })),
    payloads: model.payloads.map(payloadJson),
    enums: model.enums.map((e) => ({ ...e, divergences: e.divergences ?? [] })),
    constants: model.constants,
    registry: model.registry,
    rings: {
      split: { ...model.rings.split, structs: model.rings.split.structs.map(payloadJson) },
      packed: { ...model.rings.packed, structs: model.rings.packed.structs.map(payloadJson) },
    },
    rules: model.rules,
    clarifications: proseClarifications(model).map(({ loc, ...c }) => ({ ...c, line: loc.line })),
  };
}

export function emitJson(model: SpecModel): string {
  return `${JSON.stringify(specToJson(model), null, 2)}\n`;
}
