/**
 * The TypeScript emitter: builds the codec's generated modules (packages/codec/src/generated/*.ts)
 * with ts-morph in an in-memory project and returns them formatted. The output imports only the
 * codec's runtime entry point (`RUNTIME_MODULE`).
 */
import { Project, QuoteKind, type SourceFile } from 'ts-morph';
import { lookupIn } from '../../layout.js';
import type { SpecModel } from '../../load.js';
import { generatedHeader } from '../names.js';
import { emitMessages } from './messages.js';
import { emitPayloads } from './payloads.js';
import { emitProtocol } from './protocol.js';
import { emitProvenance } from './provenance.js';
import { emitRings } from './rings.js';
import { emitRules } from './rules.js';

const HEADER = (sources: string[], what: string) => generatedHeader((l) => `// ${l}`, sources, what);

function finish(file: SourceFile, sources: string[], what: string): string {
  file.formatText({ indentSize: 2, convertTabsToSpaces: true, ensureNewLineAtEndOfFile: true });
  return `${HEADER(sources, what)}\n\n${file.getFullText()}`;
}

export function emitTypeScript(model: SpecModel): Map<string, string> {
  const project = new Project({
    useInMemoryFileSystem: true,
    skipAddingFilesFromTsConfig: true,
    manipulationSettings: { quoteKind: QuoteKind.Single },
  });
  const lookup = lookupIn(model);
  const out = new Map<string, string>();

  const protocol = project.createSourceFile('protocol.ts');
  emitProtocol(protocol, model);
  out.set(
    'protocol.ts',
    finish(
      protocol,
      ['spec/messages/*.yaml', 'spec/features/*.yaml', 'spec/header.yaml', 'spec/constants.yaml'],
      'Request ids, feature bits, header layout and constants.',
    ),
  );

  const payloads = project.createSourceFile('payloads.ts');
  emitPayloads(payloads, model, lookup);
  out.set(
    'payloads.ts',
    finish(payloads, ['spec/payloads/*.yaml'], 'Payload types, encoders, decoders, schemas and enums.'),
  );

  const messages = project.createSourceFile('messages.ts');
  emitMessages(messages, model);
  out.set(
    'messages.ts',
    finish(messages, ['spec/messages/*.yaml'], 'Message unions, reply bodies and metadata tables.'),
  );

  const rings = project.createSourceFile('rings.ts');
  emitRings(rings, model);
  out.set('rings.ts', finish(rings, ['spec/rings/*.yaml'], 'Virtqueue layouts.'));

  const rules = project.createSourceFile('rules.ts');
  emitRules(rules, model);
  out.set('rules.ts', finish(rules, ['spec/rules/session.yaml'], 'Session preconditions.'));

  const provenance = project.createSourceFile('provenance.ts');
  emitProvenance(provenance, model);
  out.set(
    'provenance.ts',
    finish(provenance, ['spec/rules/session.yaml', 'spec/prose/*.md'], 'Where each normative rule comes from.'),
  );

  out.set(
    'index.ts',
    `${HEADER(['spec/'], 'Entry point of the generated code.')}\n\nexport * from './protocol.js';\nexport * from './payloads.js';\nexport * from './messages.js';\nexport * from './rings.js';\nexport * from './rules.js';\nexport * from './provenance.js';\n`,
  );
  return out;
}
