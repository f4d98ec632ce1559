/**
 * What the pack tests share: pack workspaces with `npm pack` (which runs each package's prepack
 * build), then install the tarballs into a new project in a temporary folder outside the
 * repository, the way a user would, and run or type-check code there.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(new URL('.', import.meta.url).pathname, '../..');

/** Workspace folder of each published package. */
export const PACKAGES = {
  '@vhost-user/generator': 'generator',
  '@vhost-user/codec': 'packages/codec',
  '@vhost-user/vring': 'packages/vring',
  '@vhost-user/transport': 'packages/transport',
  '@vhost-user/cli': 'packages/cli',
} as const;
export type PackageName = keyof typeof PACKAGES;

/** Published packages each package needs installed beside it (its workspace dependencies). */
const NEEDS: Record<PackageName, PackageName[]> = {
  '@vhost-user/generator': [],
  '@vhost-user/codec': [],
  '@vhost-user/vring': ['@vhost-user/codec'],
  '@vhost-user/transport': ['@vhost-user/codec', '@vhost-user/vring'],
  '@vhost-user/cli': ['@vhost-user/generator', '@vhost-user/codec', '@vhost-user/vring', '@vhost-user/transport'],
};

export function withDependencies(name: PackageName): PackageName[] {
  return [...NEEDS[name], name];
}

const quiet: ExecFileSyncOptions = { stdio: 'pipe', maxBuffer: 64 << 20 };

/** A folder of tarballs, packed once per test file. */
export class Tarballs {
  readonly dir = mkdtempSync(join(tmpdir(), 'vhost-user-pack-'));
  private readonly files = new Map<PackageName, string>();

  /**
   * Packs `name` (once) and returns the tarball's path. The package's own `prepack` build runs
   * first unless its output is already there (`npm test` builds everything before the tests
   * start); the pack itself never rebuilds, so it cannot rewrite files that tests running at
   * the same time are reading.
   */
  pack(name: PackageName): string {
    const known = this.files.get(name);
    if (known) return known;
    const cwd = join(REPO, PACKAGES[name]);
    const built =
      existsSync(join(cwd, 'dist')) && (name !== '@vhost-user/transport' || existsSync(join(cwd, 'prebuilds')));
    if (!built) execFileSync('npm', ['run', '-s', 'prepack'], { ...quiet, cwd });
    const before = new Set(readdirSync(this.dir));
    execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', this.dir], { ...quiet, cwd });
    const made = readdirSync(this.dir).find((f) => f.endsWith('.tgz') && !before.has(f));
    if (!made) throw new Error(`npm pack of ${name} produced no tarball`);
    const path = join(this.dir, made);
    this.files.set(name, path);
    return path;
  }

  /** The file names inside a tarball (`package/dist/index.js`, ...). */
  listing(name: PackageName): string[] {
    return execFileSync('tar', ['-tzf', this.pack(name)], { encoding: 'utf8' })
      .trim()
      .split('\n');
  }

  /**
   * A new project in its own temporary folder with `names` (and what they need) installed from
   * their tarballs, and `files` written into it.
   */
  app(
    label: string,
    names: PackageName[],
    files: Record<string, string>,
    options: { ignoreScripts?: boolean } = {},
  ): App {
    const dir = join(this.dir, label);
    mkdirSync(dir, { recursive: true });
    const all = [...new Set(names.flatMap(withDependencies))];
    const dependencies = Object.fromEntries(all.map((n) => [n, `file:${this.pack(n)}`]));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: label, private: true, type: 'module', dependencies }),
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          outDir: 'out',
          skipLibCheck: false,
          types: ['node'],
          // The vring and transport types name WebAssembly.Memory, which TypeScript declares in
          // its DOM library (their READMEs say so).
          lib: ['ES2023', 'DOM'],
        },
        include: ['*.ts'],
      }),
    );
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const install = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent'];
    if (options.ignoreScripts) install.push('--ignore-scripts');
    // @types/node from the registry (as a user's project would have it), for `types: ['node']`.
    execFileSync('npm', [...install, '@types/node@20.19.43'], { ...quiet, cwd: dir });
    return new App(dir);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class App {
  constructor(readonly dir: string) {}

  /** Type-checks the project's *.ts under strict NodeNext and compiles them into out/. */
  typecheck(): void {
    execFileSync(join(REPO, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { ...quiet, cwd: this.dir });
  }

  /** Runs a compiled module with plain Node (no TypeScript loader); returns its stdout. */
  node(file: string, args: string[] = []): string {
    return execFileSync(process.execPath, [file, ...args], { ...quiet, cwd: this.dir, encoding: 'utf8' });
  }

  /** Runs an installed package's command (node_modules/.bin) and returns its stdout. */
  bin(command: string, args: string[], options: { cwd?: string } = {}): string {
    return execFileSync(join(this.dir, 'node_modules/.bin', command), args, {
      ...quiet,
      cwd: options.cwd ?? this.dir,
      encoding: 'utf8',
    });
  }
}
