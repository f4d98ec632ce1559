/**
 * Loads a spec folder (the draft in spec/, or a frozen copy in spec/releases/<v>/) into one
 * model, validating each file with its zod schema. Cross-file checks are in lint/.
 */
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { z } from 'zod';
import { parseChapter, type ProseChapter } from './prose.js';
import { pathProblem, readSpecFile, refusedIssue } from './spec-files.js';
import {
  ConstantsFile,
  HeaderFile,
  MessageFile,
  PayloadFile,
  ProtocolFeatureFile,
  RegistryFile,
  RingLayoutFile,
  RulesFile,
  SpecMeta,
  VirtioFeatureFile,
  type Channel,
  type EnumDef,
  type Message,
  type NamedConstant,
  type Payload,
  type ProtocolFeature,
  type RegistryEntry,
  type VirtioFeature,
} from './schema.js';
import { YamlFile, type PathSegment, type SourceLocation, type SpecIssue } from './yaml-file.js';

export type ChannelMessage = Message & { channel: Channel };

/** Where an entity was written: its file and its path inside that file. */
export interface Origin {
  file: YamlFile;
  path: PathSegment[];
}

export interface SpecModel {
  /** The folder that was loaded. */
  dir: string;
  meta: SpecMeta;
  header: HeaderFile;
  messages: ChannelMessage[];
  payloads: Payload[];
  enums: EnumDef[];
  protocolFeatures: ProtocolFeature[];
  virtioFeatures: VirtioFeature[];
  registry: RegistryEntry[];
  constants: NamedConstant[];
  rings: { split: RingLayoutFile; packed: RingLayoutFile };
  rules: RulesFile;
  prose: ProseChapter[];
  /** Where a YAML entity (any object above) was written; `sub` points inside it. */
  where(entity: object, ...sub: PathSegment[]): SourceLocation;
}

export class SpecLoadError extends Error {
  constructor(readonly issues: SpecIssue[]) {
    super(`the spec has ${issues.length} problem(s); first: ${issues[0]?.message ?? ''}`);
  }
}

interface LoadState {
  dir: string;
  root: string;
  issues: SpecIssue[];
  origins: WeakMap<object, Origin>;
}

/** Appends one by one: a spread of a long list would overflow the stack. */
export function append<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** Reads `rel` under the spec folder (safely, see spec-files.ts); undefined when it is not read. */
function readText(
  state: LoadState,
  rel: string,
  missing: { rule: string; message: string; loc?: SourceLocation },
): string | undefined {
  const read = readSpecFile(state.dir, rel);
  if (read.kind === 'text') return read.text;
  const path = join(state.dir, rel);
  if (read.kind === 'refused') state.issues.push(refusedIssue(path, state.root, read.reason));
  else
    state.issues.push({ loc: { file: relative(state.root, path), line: 1, column: 1 }, ...missing, severity: 'error' });
  return undefined;
}

/** Reads `rel` under the spec folder and validates it; undefined when missing or invalid. */
function readValidated<T>(
  state: LoadState,
  rel: string,
  schema: z.ZodType<T>,
): { value: T; file: YamlFile } | undefined {
  const text = readText(state, rel, { rule: 'missing-file', message: `required file ${rel} is missing` });
  if (text === undefined) return undefined;
  const { file, issues } = YamlFile.parse(text, join(state.dir, rel), state.root);
  append(state.issues, issues);
  if (!file || issues.length > 0) return undefined;
  const { value, issues: schemaIssues } = file.validate(schema);
  append(state.issues, schemaIssues);
  return value === undefined ? undefined : { value, file };
}

/** Records where each element of `list` (found at `path` in `file`) was written. */
function remember<T extends object>(state: LoadState, file: YamlFile, path: PathSegment[], list: T[] | undefined): T[] {
  if (list) state.origins.set(list, { file, path });
  (list ?? []).forEach((item, index) => state.origins.set(item, { file, path: [...path, index] }));
  return list ?? [];
}

function yamlFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  // Links are listed too, so that reading them reports them instead of skipping them silently.
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.name.endsWith('.yaml') && (entry.isFile() || entry.isSymbolicLink()))
    .map((entry) => entry.name)
    .sort();
}

/**
 * Loads one spec folder. Returns the model with every problem found while loading; when a
 * required file cannot be read at all the model is undefined.
 */
export function loadSpecFolder(dir: string, root: string): { model: SpecModel | undefined; issues: SpecIssue[] } {
  const state: LoadState = { dir, root, issues: [], origins: new WeakMap() };
  // A spec folder inside the repository (the draft, a release) must be a real folder of it: a
  // link would make the loader read whatever it points at. A folder outside was named by the user.
  const inRoot = relative(root, dir);
  const link = inRoot && !inRoot.startsWith('..') && !isAbsolute(inRoot) ? pathProblem(root, inRoot) : undefined;
  if (link && link !== 'missing') return { model: undefined, issues: [refusedIssue(dir, root, link)] };

  const meta = readValidated(state, 'spec.yaml', SpecMeta);
  const header = readValidated(state, 'header.yaml', HeaderFile);
  const protocol = readValidated(state, 'features/protocol.yaml', ProtocolFeatureFile);
  const virtio = readValidated(state, 'features/virtio.yaml', VirtioFeatureFile);
  const registry = readValidated(state, 'registry.yaml', RegistryFile);
  const constants = readValidated(state, 'constants.yaml', ConstantsFile);
  const split = readValidated(state, 'rings/split.yaml', RingLayoutFile);
  const packed = readValidated(state, 'rings/packed.yaml', RingLayoutFile);
  const rules = readValidated(state, 'rules/session.yaml', RulesFile);

  const messages: ChannelMessage[] = [];
  for (const name of yamlFilesIn(join(dir, 'messages'))) {
    const loaded = readValidated(state, `messages/${name}`, MessageFile);
    if (!loaded) continue;
    const withChannel = loaded.value.messages.map((m) => ({ ...m, channel: loaded.value.channel }));
    append(messages, remember(state, loaded.file, ['messages'], withChannel));
  }

  const payloads: Payload[] = [];
  const enums: EnumDef[] = [];
  for (const name of yamlFilesIn(join(dir, 'payloads'))) {
    const loaded = readValidated(state, `payloads/${name}`, PayloadFile);
    if (!loaded) continue;
    append(payloads, remember(state, loaded.file, ['payloads'], loaded.value.payloads));
    append(enums, remember(state, loaded.file, ['enums'], loaded.value.enums));
  }

  if (!meta || !header || !protocol || !virtio || !registry || !constants || !split || !packed || !rules) {
    return { model: undefined, issues: state.issues };
  }
  state.origins.set(meta.value, { file: meta.file, path: [] });
  state.origins.set(header.value, { file: header.file, path: [] });
  state.origins.set(rules.value, { file: rules.file, path: [] });
  remember(state, rules.file, ['preconditions'], rules.value.preconditions);
  remember(state, rules.file, ['ringStates', 'transitions'], rules.value.ringStates.transitions);
  for (const ring of [split, packed]) {
    state.origins.set(ring.value, { file: ring.file, path: [] });
    remember(state, ring.file, ['structs'], ring.value.structs);
  }

  const prose: ProseChapter[] = [];
  for (const chapter of meta.value.prose) {
    const markdown = readText(state, `prose/${chapter}`, {
      rule: 'prose-chapter',
      message: `chapter ${chapter} is listed in spec.yaml but prose/${chapter} does not exist`,
      loc: meta.file.at(['prose', meta.value.prose.indexOf(chapter)]),
    });
    if (markdown !== undefined) prose.push(parseChapter(markdown, join(dir, 'prose', chapter), root));
  }
  const listed = new Set(meta.value.prose);
  const proseDir = join(dir, 'prose');
  if (existsSync(proseDir)) {
    for (const name of readdirSync(proseDir)
      .filter((n) => n.endsWith('.md'))
      .sort()) {
      if (!listed.has(name)) {
        state.issues.push({
          rule: 'prose-chapter',
          message: `prose/${name} is not listed in spec.yaml's prose, so no reader will see it`,
          loc: { file: relative(root, join(proseDir, name)), line: 1, column: 1 },
          severity: 'error',
        });
      }
    }
  }

  const origins = state.origins;
  const model: SpecModel = {
    dir,
    meta: meta.value,
    header: header.value,
    messages,
    payloads,
    enums,
    protocolFeatures: remember(state, protocol.file, ['protocolFeatures'], protocol.value.protocolFeatures),
    virtioFeatures: remember(state, virtio.file, ['virtioFeatures'], virtio.value.virtioFeatures),
    registry: remember(state, registry.file, ['registry'], registry.value.registry),
    constants: remember(state, constants.file, ['constants'], constants.value.constants),
    rings: { split: split.value, packed: packed.value },
    rules: rules.value,
    prose,
    where(entity: object, ...sub: PathSegment[]): SourceLocation {
      const origin = origins.get(entity);
      if (!origin) return { file: dir, line: 1, column: 1 };
      return origin.file.at([...origin.path, ...sub]);
    },
  };
  return { model, issues: state.issues };
}
