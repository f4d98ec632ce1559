/**
 * Emits the codec's generated messages.ts (packages/codec/src/generated/): per channel, the discriminated union of requests (name ->
 * payload type), the reply body type of each request, and the metadata table (payload codecs,
 * reply rule, fd rules, gating features) that the codec, transport and conformance suite use.
 */
import type { SourceFile } from 'ts-morph';
import type { ChannelMessage, SpecModel } from '../../load.js';
import type { Payload } from '../../schema.js';
import { camelCase } from '../names.js';
import { jsdoc, RUNTIME_MODULE, sourceOf } from './docs.js';

/** The declared reply body of a request: acks (U64) and empty bodies are typed by the codec
 *  beside it, so a body that is always there is not nullable here. */
function replyBodyType(m: ChannelMessage): string {
  switch (m.reply.kind) {
    case 'always':
      return m.reply.payload ?? 'null';
    case 'conditional':
      return m.reply.payload ?? 'never';
    case 'ack':
    case 'none':
      return 'never';
  }
}

/** The field path of a payload's invalid-fd bit, as a JS expression over `p`. */
function invalidFdExpr(payload: Payload): string | undefined {
  for (const field of payload.fields) {
    const bit = field.bits?.find((b) => b.name === 'invalid_fd');
    if (bit) {
      const wide = field.type === 'u64';
      return wide
        ? `((p as ${payload.name}).${camelCase(field.name)} & ${(1n << BigInt(bit.lsb)).toString()}n) !== 0n`
        : `((p as ${payload.name}).${camelCase(field.name)} & ${2 ** bit.lsb}) !== 0`;
    }
  }
  return undefined;
}

function regionCountExpr(payload: Payload): string | undefined {
  const counted = payload.fields.find((f) => typeof f.count === 'object' && 'field' in f.count);
  return counted ? `(p as ${payload.name}).${camelCase(counted.name)}.length` : undefined;
}

export function emitMessages(file: SourceFile, model: SpecModel): void {
  const payloadNames = new Set<string>();
  for (const m of model.messages) {
    if (m.request) payloadNames.add(m.request);
    if ('payload' in m.reply && m.reply.payload) payloadNames.add(m.reply.payload);
  }
  payloadNames.add('U64');
  const codecs = [...payloadNames].sort();
  file.addImportDeclaration({
    moduleSpecifier: RUNTIME_MODULE,
    namedImports: [
      'VhostUserError',
      { name: 'MessageInfo', isTypeOnly: true },
      { name: 'PayloadCodec', isTypeOnly: true },
    ],
  });
  file.addImportDeclaration({
    moduleSpecifier: './payloads.js',
    namedImports: [
      ...codecs.map((n) => `${n}Codec`),
      ...codecs.map((n) => `decode${n}`),
      ...codecs.map((n) => `encode${n}`),
      ...codecs.map((n) => `sizeOf${n}`),
      ...codecs.map((n) => ({ name: n, isTypeOnly: true })),
    ],
  });

  const bit = (name: string) =>
    model.protocolFeatures.find((b) => b.name === name)?.bit ?? model.virtioFeatures.find((b) => b.name === name)?.bit;
  const payload = (name: string | null) => (name ? model.payloads.find((p) => p.name === name) : undefined);

  for (const channel of ['frontend', 'backend'] as const) {
    const Chan = channel === 'frontend' ? 'Frontend' : 'Backend';
    const messages = model.messages.filter((m) => m.channel === channel);
    const sender = channel === 'frontend' ? 'front-end' : 'back-end';

    file.addStatements(
      `${jsdoc(`Canonical names of the ${sender}'s requests.`)}\nexport type ${Chan}MessageName =\n${messages.map((m) => `| '${m.name}'`).join('\n')};`,
    );
    file.addStatements(
      `${jsdoc(`A ${sender} request: its name and its payload (null for none).`)}\nexport type ${Chan}Message =\n` +
        messages.map((m) => `| { name: '${m.name}'; payload: ${m.request ?? 'null'} }`).join('\n') +
        ';',
    );
    file.addStatements(
      `${jsdoc(`The declared body of the reply to each ${sender} request (null: the reply has no payload; never: the request declares no body, so it is answered by an ack or not at all). Acks and empty bodies are typed by ReplyOf in the codec.`)}\nexport interface ${Chan}ReplyBodies {\n` +
        messages.map((m) => `${jsdoc(`${m.reply.kind} reply`)}\n${m.name}: ${replyBodyType(m)};`).join('\n') +
        '\n}',
    );

    const entries = messages.map((m) => {
      const req = payload(m.request);
      const rep = 'payload' in m.reply ? payload(m.reply.payload) : undefined;
      const lines = [
        `name: '${m.name}',`,
        `id: ${m.id},`,
        `channel: '${channel}',`,
        `request: ${m.request ? `${m.request}Codec as PayloadCodec<unknown>` : 'null'},`,
        `reply: { kind: '${m.reply.kind}', payload: ${rep ? `${rep.name}Codec as PayloadCodec<unknown>` : 'null'}${'protocolFeature' in m.reply && m.reply.protocolFeature ? `, protocolFeature: ${bit(m.reply.protocolFeature)}` : ''}${'refusal' in m.reply && m.reply.refusal ? `, refusal: { nonzero: '${m.reply.refusal.nonzero}'${m.reply.refusal.mask ? `, mask: ${m.reply.refusal.mask}n` : ''} }` : ''} },`,
        `fds: { request: { rule: '${m.fds.request.rule}'${m.fds.request.protocolFeature ? `, protocolFeature: ${bit(m.fds.request.protocolFeature)}` : ''} }, reply: { rule: '${m.fds.reply.rule}'${m.fds.reply.protocolFeature ? `, protocolFeature: ${bit(m.fds.reply.protocolFeature)}` : ''} } },`,
        `protocolFeatures: [${(m.gate.protocolFeatures ?? []).map(bit).join(', ')}],`,
        `virtioFeatures: [${(m.gate.virtioFeatures ?? []).map(bit).join(', ')}],`,
        `since: '${m.since}',`,
        `status: '${m.status}',`,
      ];
      const fdPayload =
        m.fds.request.rule === 'one-unless-invalid-fd'
          ? req
          : m.fds.reply.rule === 'one-unless-invalid-fd'
            ? rep
            : undefined;
      const invalid = fdPayload ? invalidFdExpr(fdPayload) : undefined;
      if (invalid) lines.push(`invalidFd: (p) => ${invalid},`);
      const regions = m.fds.request.rule === 'one-per-region' && req ? regionCountExpr(req) : undefined;
      if (regions) lines.push(`regionCount: (p) => ${regions},`);
      return `${jsdoc(`${m.name}: ${m.summary}\n@see ${sourceOf(model, m)}`)}\n{\n${lines.join('\n')}\n},`;
    });
    file.addStatements(
      `${jsdoc(`What the spec says about every ${sender} request, in id order.`)}\nexport const ${channel}Messages: readonly MessageInfo[] = [\n${entries.join('\n')}\n];`,
    );

    // Straight-line dispatch by id: each case calls its decoder directly, so V8 can inline it
    // (a call through the metadata table would be megamorphic on a mixed stream).
    const requestCases = messages.map((m) =>
      m.request
        ? `case ${m.id}: return decode${m.request}(view, offset, length, le, ext);`
        : `case ${m.id}: if (length !== 0) throw new VhostUserError('BAD_SIZE', \`${m.name} has no payload, but the header says \${length} bytes\`, { offset: offset - 4 }); return null;`,
    );
    file.addFunction({
      name: `decode${Chan}RequestPayload`,
      isExported: true,
      docs: [`Decodes the payload of ${sender} request \`id\` (length bytes at offset); undefined for an unknown id.`],
      parameters: [
        { name: 'id', type: 'number' },
        { name: 'view', type: 'DataView' },
        { name: 'offset', type: 'number' },
        { name: 'length', type: 'number' },
        { name: 'le', type: 'boolean' },
        { name: 'ext', type: 'boolean' },
      ],
      returnType: 'unknown',
      statements: [`switch (id) {`, ...requestCases, `default: return undefined;`, `}`],
    });
    const replyCases = messages.flatMap((m) => {
      const body = 'payload' in m.reply ? m.reply.payload : null;
      return body ? [`case ${m.id}: return decode${body}(view, offset, length, le, ext);`] : [];
    });
    file.addFunction({
      name: `decode${Chan}ReplyPayload`,
      isExported: true,
      docs: [
        `Decodes the declared reply body of ${sender} request \`id\`; undefined when the request declares none (its replies are acks).`,
      ],
      parameters: [
        { name: 'id', type: 'number' },
        { name: 'view', type: 'DataView' },
        { name: 'offset', type: 'number' },
        { name: 'length', type: 'number' },
        { name: 'le', type: 'boolean' },
        { name: 'ext', type: 'boolean' },
      ],
      returnType: 'unknown',
      statements: [`switch (id) {`, ...replyCases, `default: return undefined;`, `}`],
    });

    // The encoding twins: straight-line dispatch by id into the payload encoders, so encoding
    // into a caller's buffer goes through no table and allocates nothing.
    const dispatchParams = [
      { name: 'id', type: 'number' },
      { name: 'view', type: 'DataView' },
      { name: 'offset', type: 'number' },
      { name: 'value', type: 'unknown' },
      { name: 'le', type: 'boolean' },
      { name: 'ext', type: 'boolean' },
    ];
    const sizeParams = [
      { name: 'id', type: 'number' },
      { name: 'value', type: 'unknown' },
      { name: 'ext', type: 'boolean' },
    ];
    const requestBodies = messages.flatMap((m) => (m.request ? [{ id: m.id, body: m.request }] : []));
    const replyBodies = messages.flatMap((m) =>
      'payload' in m.reply && m.reply.payload ? [{ id: m.id, body: m.reply.payload }] : [],
    );
    for (const [what, bodies] of [
      ['Request', requestBodies],
      ['Reply', replyBodies],
    ] as const) {
      const whose =
        what === 'Request' ? `${sender} request \`id\`` : `the declared reply body of ${sender} request \`id\``;
      file.addFunction({
        name: `sizeOf${Chan}${what}Payload`,
        isExported: true,
        docs: [`Bytes ${whose} takes with \`value\`; -1 when there is no such payload.`],
        parameters: sizeParams,
        returnType: 'number',
        statements: [
          `switch (id) {`,
          ...bodies.map((b) => `case ${b.id}: return sizeOf${b.body}(value as ${b.body}, ext);`),
          `default: return -1;`,
          `}`,
        ],
      });
      file.addFunction({
        name: `encode${Chan}${what}Payload`,
        isExported: true,
        docs: [
          `Writes ${whose} at \`offset\`; the caller checked its size with sizeOf${Chan}${what}Payload. Does nothing when there is no such payload.`,
        ],
        parameters: dispatchParams,
        returnType: 'void',
        statements: [
          `switch (id) {`,
          ...bodies.map((b) => `case ${b.id}: encode${b.body}(view, offset, value as ${b.body}, le, ext); return;`),
          `}`,
        ],
      });
    }
  }
}
