/**
 * The generated C header and Rust module carry compile-time assertions on every size and field
 * offset; compiling them with the machine's gcc and rustc checks spec/ against each compiler's
 * own layout rules. A deliberately wrong offset must make each compiler fail.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(new URL('.', import.meta.url).pathname, '../..');
const header = readFileSync(join(root, 'generated/c/vhost_user.h'), 'utf8');
const rust = readFileSync(join(root, 'generated/rust/vhost_user.rs'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'vhost-user-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rustc =
  [join(homedir(), '.cargo/bin/rustc'), 'rustc'].find((bin) => {
    try {
      execFileSync(bin, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }) ?? 'rustc';

function compileC(source: string): void {
  writeFileSync(join(dir, 'vhost_user.h'), source);
  writeFileSync(
    join(dir, 'main.c'),
    '#include "vhost_user.h"\nint main(void) { return (int)sizeof(struct vhost_user_vring_addr) - 40; }\n',
  );
  execFileSync(
    'gcc',
    ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-o', join(dir, 'main'), join(dir, 'main.c')],
    { stdio: 'pipe' },
  );
}

function compileRust(source: string): void {
  writeFileSync(join(dir, 'vhost_user.rs'), source);
  execFileSync(
    rustc,
    ['--crate-type=lib', '--edition=2021', '-o', join(dir, 'libvhost_user.rlib'), join(dir, 'vhost_user.rs')],
    { stdio: 'pipe' },
  );
}

describe('generated C header', () => {
  it('compiles with gcc -Werror, every size and offset asserted', () => {
    expect(header).toMatch(/_Static_assert\(sizeof\(struct vhost_user_vring_addr\) == 40/);
    expect(header).toMatch(/_Static_assert\(offsetof\(struct vhost_user_vring_addr, log\) == 32/);
    compileC(header);
    expect(execFileSync(join(dir, 'main')).length).toBe(0);
  });
  it('fails to compile when an offset is wrong', () => {
    const broken = header.replace(
      'offsetof(struct vhost_user_vring_addr, log) == 32',
      'offsetof(struct vhost_user_vring_addr, log) == 36',
    );
    expect(broken).not.toBe(header);
    expect(() => compileC(broken)).toThrow();
  });
});

describe('generated Rust module', () => {
  it('compiles with rustc, every size and offset asserted', () => {
    expect(rust).toContain('assert!(core::mem::size_of::<VringAddr>() == 40)');
    compileRust(rust);
  });
  it('fails to compile when a size is wrong', () => {
    const broken = rust.replace('size_of::<IotlbMsg>() == 32', 'size_of::<IotlbMsg>() == 26');
    expect(broken).not.toBe(rust);
    expect(() => compileRust(broken)).toThrow();
  });
});
