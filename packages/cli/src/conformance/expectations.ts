/** Known divergences of an implementation, as data (expectations/<impl>.yaml). */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

const DIVERGENCE = z.object({
  /** A case id, or a prefix ending in `/*` (every case of a section or group). */
  case: z.string().min(1),
  summary: z.string().min(1),
  links: z.array(z.string().url()).min(1),
});

const FILE = z.object({
  implementation: z.string().min(1),
  description: z.string().optional(),
  /** How to print the version of the implementation under test. */
  versionCommand: z.string().optional(),
  divergences: z.array(DIVERGENCE),
});

export type Divergence = z.infer<typeof DIVERGENCE>;

export class Expectations {
  constructor(
    readonly implementation: string,
    readonly divergences: Divergence[],
    readonly versionCommand?: string,
  ) {}

  divergenceFor(caseId: string): Divergence | undefined {
    return this.divergences.find(
      (d) => d.case === caseId || (d.case.endsWith('/*') && caseId.startsWith(d.case.slice(0, -1))),
    );
  }
}

export const EXPECTATIONS_DIR = fileURLToPath(new URL('./expectations/', import.meta.url));

export function knownImplementations(dir = EXPECTATIONS_DIR): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.slice(0, -5))
        .sort()
    : [];
}

/** Loads expectations/<name>.yaml; throws with the file and the problem when it is malformed. */
export function loadExpectations(name: string, dir = EXPECTATIONS_DIR): Expectations {
  const path = `${dir}${name}.yaml`;
  if (!existsSync(path))
    throw new Error(`no expectations for "${name}" (known: ${knownImplementations(dir).join(', ') || 'none'})`);
  const parsed = FILE.safeParse(parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return new Expectations(parsed.data.implementation, parsed.data.divergences, parsed.data.versionCommand);
}
