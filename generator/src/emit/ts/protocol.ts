/**
 * Emits the codec's generated protocol.ts (packages/codec/src/generated/): request ids per channel, protocol and virtio feature bits,
 * header layout and flags, and the named constants. Every const object is keyed by the spec's
 * canonical names (FrontendRequest.VHOST_USER_SET_VRING_NUM, ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ,
 * VirtioFeature.VIRTIO_F_VERSION_1): the same strings messages carry in `name`, and upstream's.
 */
import type { SourceFile } from 'ts-morph';
import type { SpecModel } from '../../load.js';
import { docComment, fileOf, jsdoc, sourceOf } from './docs.js';

function constObject(name: string, doc: string, entries: { key: string; value: string; doc: string }[]): string {
  const body = entries.map((e) => `${jsdoc(e.doc)}\n${e.key}: ${e.value},`).join('\n');
  return `${jsdoc(doc)}\nexport const ${name} = {\n${body}\n} as const;\nexport type ${name} = (typeof ${name})[keyof typeof ${name}];`;
}

export function emitProtocol(file: SourceFile, model: SpecModel): void {
  for (const channel of ['frontend', 'backend'] as const) {
    const messages = model.messages.filter((m) => m.channel === channel);
    const typeName = channel === 'frontend' ? 'FrontendRequest' : 'BackendRequest';
    const what =
      channel === 'frontend'
        ? 'Requests the front-end sends to the back-end (main socket).'
        : 'Requests the back-end sends to the front-end (back-end channel).';
    file.addStatements(
      constObject(
        typeName,
        `${what} Message ids by canonical name.\n\n@see ${fileOf(model, messages)}`,
        messages.map((m) => ({
          key: m.name,
          value: String(m.id),
          doc: `${m.name} (${m.id}): ${m.summary}${m.status === 'deprecated' ? '\n@deprecated' : ''}`,
        })),
      ),
    );
  }

  file.addStatements(
    constObject(
      'ProtocolFeature',
      `Protocol feature bit numbers (GET/SET_PROTOCOL_FEATURES); the mask of bit b is 1n << BigInt(b).\n\n@see ${fileOf(model, model.protocolFeatures)}`,
      model.protocolFeatures.map((b) => ({
        key: b.name,
        value: String(b.bit),
        doc: `${b.name} (bit ${b.bit}): ${b.summary.trim()}${b.requires?.length ? `\nRequires ${b.requires.join(', ')}.` : ''}`,
      })),
    ),
  );
  file.addStatements(
    constObject(
      'VirtioFeature',
      `Virtio feature bit numbers vhost-user uses (GET/SET_FEATURES).\n\n@see ${fileOf(model, model.virtioFeatures)}`,
      model.virtioFeatures.map((b) => ({
        key: b.name,
        value: String(b.bit),
        doc: `bit ${b.bit}: ${b.summary.trim()}`,
      })),
    ),
  );
  const requires = model.protocolFeatures.filter((b) => b.requires?.length);
  file.addStatements(
    `${jsdoc('Protocol feature bits that must be negotiated together with a bit, by bit number.')}\nexport const PROTOCOL_FEATURE_REQUIRES: Readonly<Record<number, readonly number[]>> = {\n` +
      requires
        .map(
          (b) =>
            `${b.bit}: [${(b.requires ?? []).map((n) => model.protocolFeatures.find((x) => x.name === n)?.bit).join(', ')}],`,
        )
        .join('\n') +
      `\n};`,
  );
  file.addStatements(
    `${jsdoc('Canonical names of protocol feature bits, by bit number.')}\nexport const PROTOCOL_FEATURE_NAMES: Readonly<Record<number, string>> = {\n` +
      model.protocolFeatures.map((b) => `${b.bit}: '${b.name}',`).join('\n') +
      `\n};\n${jsdoc('Canonical names of the virtio feature bits every device shares (transport and vhost), by bit number.')}\nexport const VIRTIO_FEATURE_NAMES: Readonly<Record<number, string>> = {\n` +
      model.virtioFeatures
        .filter((b) => b.scope !== 'net' && b.scope !== 'blk')
        .map((b) => `${b.bit}: '${b.name}',`)
        .join('\n') +
      `\n};\n${jsdoc('Canonical names of device-specific virtio feature bits, by device, then bit number.')}\nexport const DEVICE_FEATURE_NAMES: Readonly<Record<'net' | 'blk', Readonly<Record<number, string>>>> = {\n` +
      (['net', 'blk'] as const)
        .map(
          (device) =>
            `${device}: {\n${model.virtioFeatures
              .filter((b) => b.scope === device)
              .map((b) => `${b.bit}: '${b.name}',`)
              .join('\n')}\n},`,
        )
        .join('\n') +
      `\n};`,
  );

  // Header
  const h = model.header;
  const field = (name: string) => h.fields.find((f) => f.name === name)?.offset ?? 0;
  file.addStatements(
    `${jsdoc(docComment(`${h.doc}\n\n${h.byteOrder}`, sourceOf(model, h)))}\nexport const HEADER = {\n` +
      `/** Bytes of the header. */\nsize: ${h.size},\n/** Offset of the u32 request id. */\nrequestOffset: ${field('request')},\n` +
      `/** Offset of the u32 flags. */\nflagsOffset: ${field('flags')},\n/** Offset of the u32 payload size. */\nsizeOffset: ${field('size')},\n` +
      `/** Flag bits that carry the version. */\nversionMask: 0x${h.version.mask.toString(16)},\n/** The only version. */\nversion: ${h.version.value},\n` +
      h.flags
        .map(
          (f) =>
            `/** ${f.doc} (${f.name}) */\n${f.name === 'VHOST_USER_REPLY_MASK' ? 'replyFlag' : f.name === 'VHOST_USER_NEED_REPLY_MASK' ? 'needReplyFlag' : f.name}: 0x${f.mask.toString(16)},`,
        )
        .join('\n') +
      `\n/** Flag bits that must be zero. */\nreservedMask: 0x${(h.reservedMask >>> 0).toString(16)},\n} as const;`,
  );

  file.addStatements(
    model.constants
      .map((c) => `${jsdoc(`${c.doc}\n@since ${c.since}`)}\nexport const ${c.name} = 0x${c.value.toString(16)};`)
      .join('\n'),
  );
}
