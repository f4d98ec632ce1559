/**
 * The text `vhost-user new` writes: YAML stubs, prose sections and CHANGELOG lines. Every
 * field a person must decide is a string starting with "TODO", which the `fill-in` lint rule
 * reports one by one until it is replaced.
 */

/** The prefix of every placeholder; the fill-in lint rule looks for exactly this. */
export const TODO = 'TODO';

export type Kind = 'message' | 'backend-message' | 'feature' | 'payload' | 'enum';

export interface MessageStub {
  name: string;
  id: number;
  gate: string[];
  request: string | null;
}

const quote = (text: string) => JSON.stringify(text);

export function messageYaml(m: MessageStub, side: 'front-end' | 'back-end'): string {
  const gate = m.gate.length > 0 ? `{ protocolFeatures: [${m.gate.join(', ')}] }` : '{}';
  return [
    '',
    `  - name: ${m.name}`,
    `    id: ${m.id}`,
    `    summary: ${quote(`${TODO}: one sentence saying what the ${side} asks for.`)}`,
    '    ioctl: null',
    `    request: ${m.request ?? 'null'}`,
    '    reply: { kind: ack }',
    '    fds: { request: { rule: none }, reply: { rule: none } }',
    `    gate: ${gate}`,
    '    since: draft',
    '    status: proposed',
    '',
  ].join('\n');
}

export function featureYaml(name: string, bit: number): string {
  return [
    '',
    `  - name: ${name}`,
    `    bit: ${bit}`,
    `    summary: ${quote(`${TODO}: one sentence saying what negotiating this bit enables.`)}`,
    '    since: draft',
    '    status: proposed',
    '',
  ].join('\n');
}

export function payloadYaml(name: string): string {
  return [
    `  - name: ${name}`,
    `    title: ${quote(`${TODO}: a few words naming the payload`)}`,
    '    size: 8',
    '    fields:',
    `      - { name: value, type: u64, offset: 0, doc: ${quote(`${TODO}: what this field holds; replace or add fields`)} }`,
    '    since: draft',
    `    doc: ${quote(`${TODO}: what the payload carries and which messages use it.`)}`,
    '',
  ].join('\n');
}

/** An enum needs one value to be valid; its name is a placeholder too. */
export function enumYaml(name: string): string {
  const value = `VHOST_USER_${snake(name)}_TODO`;
  return [
    `  - name: ${name}`,
    `    title: ${quote(`${TODO}: a few words naming the enum`)}`,
    '    kind: value',
    '    values:',
    `      - { name: ${value}, value: 0, doc: ${quote(`${TODO}: name this value and say what it means`)} }`,
    '    since: draft',
    '',
  ].join('\n');
}

/** A chapter section for a message or feature: the heading is the constant (its anchor), then the marker. */
export function namedSection(name: string, marker: 'message' | 'feature', what: string): string {
  return `\n## ${name}\n\n::${marker}{name=${name}}\n\n${TODO}: ${what}\n`;
}

/** Payloads and enums have no heading of their own: a paragraph and the marker that shows the table. */
export function typeParagraph(name: string, marker: 'payload' | 'enum'): string {
  const what =
    marker === 'payload'
      ? `what ${name} carries and which messages use it`
      : `what the values of ${name} mean and which field holds them`;
  return `\n${TODO}: say ${what}.\n\n::${marker}{name=${name}}\n`;
}

/** `VringAddr` -> `VRING_ADDR`; `ShMemConfig` -> `SH_MEM_CONFIG`. */
export function snake(pascal: string): string {
  return pascal.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** `VringAddr` -> `vring-addr`. */
export function kebab(pascal: string): string {
  return snake(pascal).toLowerCase().replace(/_/g, '-');
}
