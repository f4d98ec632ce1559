/**
 * A guest that keeps a virtio-blk device busy with two requests at a time, with no OS: sector 0
 * loads the rest of the program through the BIOS, which then drives the device itself through
 * its legacy (I/O port) interface, so the back-end holds several requests at once. Each round it
 * writes a pattern to one sector and reads back the sector written the round before, checks it,
 * and prints `C <round> <running checksum>` (hex) on COM1; any fault prints `ERR <why>` and halts.
 * Reads land in 32 pages in turn that only the device writes, and each round first checks that
 * the page it reuses still holds what was read into it 32 rounds before: a page the device wrote
 * that a migration did not carry over shows up there.
 * Assembled at test time with GNU as (binutils).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Peer, findProgram } from './peers.js';

/** First sector of the data area; rounds cycle over 32 sectors from here. */
export const DATA_SECTOR = 64;

/** Sum of the 16-bit words of the pattern written in round `n`: word k is (n + 1) * (k + 1). */
export function patternSum(n: number): number {
  return ((n + 1) * 32896) & 0xffff;
}

/**
 * Rounds printed in a serial log, each checked against the checksum it must carry (throws on a
 * wrong one). A log may start mid-run (the destination of a migration): counting starts at its
 * first complete line. Returns the first and the next round.
 */
export function roundsIn(serial: string): { first: number; next: number } {
  let first = -1;
  let next = 0;
  let expected = 0;
  for (const line of serial.split('\n')) {
    const m = /^C ([0-9A-F]{4}) ([0-9A-F]{4})$/.exec(line);
    if (!m) continue;
    const round = parseInt(m[1] as string, 16);
    const sum = parseInt(m[2] as string, 16);
    if (first < 0) {
      first = next = round;
      // Round 0 reads a sector never written (zeros); round r > 0 reads the pattern of round r - 1.
      for (let r = 1; r <= round; r++) expected = (expected + patternSum(r - 1)) & 0xffff;
    } else {
      if (round !== (next & 0xffff)) throw new Error(`guest printed round ${round} after round ${next - 1}`);
      expected = (expected + patternSum(next - 1)) & 0xffff;
    }
    if (sum !== expected)
      throw new Error(`round ${round}: checksum ${sum.toString(16)}, expected ${expected.toString(16)}`);
    next++;
  }
  return { first: Math.max(first, 0), next };
}

/** Rounds completed in a log that starts at boot. */
export function checkedRounds(serial: string): number {
  const { first, next } = roundsIn(serial);
  if (next > 0 && first !== 0) throw new Error(`the log starts at round ${first}, not at boot`);
  return next;
}

/** The guest's error line, if it stopped on one. */
export function guestError(serial: string): string | undefined {
  return /^ERR .*$/m.exec(serial)?.[0];
}

const SOURCE = String.raw`
.intel_syntax noprefix
.code16
.globl _start
_start:                          /* sector 0, at 0x7c00: load sectors 1-4 after it */
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    sti
    cld
    mov bx, 0x7e00
    mov ax, 0x0204
    mov cx, 0x0002
    xor dh, dh                   /* dl: the boot drive, as the BIOS left it */
    int 0x13
    jc load_failed
    jmp main
load_failed:
    mov si, offset msg_load
    jmp die
/* prints the NUL-terminated message at ds:si and halts */
die:
    mov dx, 0x3f8
die_loop:
    lodsb
    test al, al
    jz die_halt
    out dx, al
    jmp die_loop
die_halt:
    hlt
    jmp die_halt
msg_load: .asciz "ERR loading the program\n"
.org 510
.word 0xaa55

main:
    cli                          /* polled: no interrupts needed */
    mov ebx, 0x80000000          /* PCI bus 0: find 1af4:1001 (transitional virtio-blk) */
find:
    mov eax, ebx
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x10011af4
    je found
    add ebx, 0x800
    cmp ebx, 0x80010000
    jb find
    mov si, offset msg_nodev
    jmp die
found:
    mov eax, ebx                 /* command: I/O, memory, bus master */
    or eax, 4
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in ax, dx
    or ax, 7
    out dx, ax
    mov eax, ebx                 /* BAR0: the legacy I/O registers */
    or eax, 0x10
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    and ax, 0xfffc
    mov [iobase], ax

    mov dx, [iobase]             /* status: reset, ACKNOWLEDGE, DRIVER */
    add dx, 0x12
    xor al, al
    out dx, al
    mov al, 1
    out dx, al
    mov al, 3
    out dx, al
    mov dx, [iobase]             /* no features */
    add dx, 4
    xor eax, eax
    out dx, eax
    mov dx, [iobase]             /* queue 0 */
    add dx, 0x0e
    xor ax, ax
    out dx, ax
    mov dx, [iobase]
    add dx, 0x0c
    in ax, dx
    mov [qsize], ax
    mov si, offset msg_qsize
    test ax, ax
    jz die
    cmp ax, 256
    ja die
    mov bx, ax                   /* legacy layout: used ring at the next 4 KiB after avail */
    imul bx, bx, 18
    add bx, 4 + 4095
    and bx, 0xf000
    mov [usedoff], bx
    mov bx, ax
    shl bx, 4
    mov [availoff], bx

    mov ax, 0x2000               /* the ring at 0x20000 (fs), buffers at 0x30000 (es) */
    mov es, ax
    mov fs, ax
    xor di, di
    xor ax, ax
    mov cx, 0x2000
    rep stosw
    mov si, offset desc_table
    xor di, di
    mov cx, 48
    rep movsw
    mov bx, [availoff]
    mov word ptr fs:[bx], 1      /* VRING_AVAIL_F_NO_INTERRUPT */
    mov dx, [iobase]
    add dx, 8
    mov eax, 0x20
    out dx, eax
    mov dx, [iobase]
    add dx, 0x12
    mov al, 7                    /* DRIVER_OK */
    out dx, al
    mov ax, 0x3000
    mov es, ax

round:
    mov dword ptr es:[0x00], 1   /* request A: write the pattern of this round */
    mov dword ptr es:[0x04], 0
    mov ax, [iter]
    and ax, 31
    add ax, ${DATA_SECTOR}
    movzx eax, ax
    mov es:[0x08], eax
    mov dword ptr es:[0x0c], 0
    mov dword ptr es:[0x10], 0   /* request B: read the sector of the previous round */
    mov dword ptr es:[0x14], 0
    mov ax, [iter]
    dec ax
    and ax, 31
    add ax, ${DATA_SECTOR}
    movzx eax, ax
    mov es:[0x18], eax
    mov dword ptr es:[0x1c], 0
    mov word ptr es:[0x20], 0xffff
    mov di, 0x1000
    mov bx, [iter]
    call pattern
    mov ax, [iter]               /* B reads into page (round % 32) at 0x40000, which only the device writes */
    and ax, 31
    shl ax, 8
    add ax, 0x4000
    mov [bufseg], ax
    movzx eax, ax
    shl eax, 4
    mov fs:[0x40], eax           /* descriptor 4's address */
    cmp word ptr [iter], 33      /* that page must still hold what round - 32 read into it */
    jb submit
    mov bx, [iter]
    sub bx, 33
    call compare_buf
    mov si, offset msg_lost
    jne die
submit:

    mov bx, [availoff]           /* make heads 0 and 3 available, then notify */
    mov cx, [qsize]
    dec cx
    mov ax, [avail]
    mov si, ax
    and si, cx
    shl si, 1
    mov word ptr fs:[bx+4+si], 0
    inc ax
    mov si, ax
    and si, cx
    shl si, 1
    mov word ptr fs:[bx+4+si], 3
    inc ax
    mov [avail], ax
    mov fs:[bx+2], ax
    mov dx, [iobase]
    add dx, 0x10
    xor ax, ax
    out dx, ax
    mov byte ptr [got], 0
wait_used:                       /* each of A and B must come back exactly once */
    mov bx, [usedoff]
    mov ax, fs:[bx+2]
    cmp ax, [used_seen]
    je wait_used
    mov si, [used_seen]
    mov cx, [qsize]
    dec cx
    and si, cx
    shl si, 3
    mov ax, fs:[bx+4+si]
    inc word ptr [used_seen]
    mov dl, 1
    cmp ax, 0
    je have_id
    mov dl, 2
    cmp ax, 3
    je have_id
    mov si, offset msg_badid
    jmp die
have_id:
    mov si, offset msg_dup
    test [got], dl
    jnz die
    or [got], dl
    cmp byte ptr [got], 3
    jne wait_used

    mov si, offset msg_status
    cmp word ptr es:[0x20], 0
    jne die
    cmp word ptr [iter], 0
    je checksum
    mov bx, [iter]
    dec bx
    call compare_buf
    mov si, offset msg_data
    jne die
checksum:
    mov ax, [sum]
    mov bx, [bufseg]
    push ds
    mov ds, bx
    xor si, si
    mov cx, 256
sum_loop:
    add ax, [si]
    add si, 2
    loop sum_loop
    pop ds
    mov [sum], ax
    mov dx, 0x3f8
    mov al, 'C'
    out dx, al
    mov al, ' '
    out dx, al
    mov ax, [iter]
    call hex16
    mov al, ' '
    out dx, al
    mov ax, [sum]
    call hex16
    mov al, 10
    out dx, al
    inc word ptr [iter]
    jmp round

/* es:di <- 256 words, word k = (bx + 1) * (k + 1) */
pattern:
    inc bx
    xor ax, ax
    mov cx, 256
pattern_loop:
    add ax, bx
    stosw
    loop pattern_loop
    ret

/* ZF set when the read buffer (bufseg:0) holds the pattern of round bx */
compare_buf:
    mov di, 0x1400
    call pattern
    mov ax, [bufseg]
    push ds
    mov ds, ax
    xor si, si
    mov di, 0x1400
    mov cx, 256
    repe cmpsw
    pop ds
    ret

/* ax as four hex digits on port dx */
hex16:
    mov cx, 4
hex_loop:
    rol ax, 4
    push ax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe hex_out
    add al, 7
hex_out:
    out dx, al
    pop ax
    loop hex_loop
    ret

msg_nodev: .asciz "ERR no virtio-blk device\n"
msg_qsize: .asciz "ERR queue size\n"
msg_badid: .asciz "ERR unknown used id\n"
msg_dup: .asciz "ERR request completed twice\n"
msg_status: .asciz "ERR request status\n"
msg_data: .asciz "ERR data read back differs\n"
msg_lost: .asciz "ERR guest memory lost a write of the device\n"

.balign 4
desc_table:                      /* A: header, data (device reads), status; B: header, data, status */
    .long 0x30000, 0, 16
    .word 1, 1
    .long 0x31000, 0, 512
    .word 1, 2
    .long 0x30020, 0, 1
    .word 2, 0
    .long 0x30010, 0, 16
    .word 1, 4
    .long 0x31200, 0, 512
    .word 3, 5
    .long 0x30021, 0, 1
    .word 2, 0
iobase: .word 0
qsize: .word 0
availoff: .word 0
usedoff: .word 0
avail: .word 0
used_seen: .word 0
iter: .word 0
sum: .word 0
bufseg: .word 0
got: .byte 0
`;

/** Assembles the program in `dir` and writes a 1 MiB raw image holding it. */
export function writeIoGuestDisk(dir: string, image: string): void {
  const source = join(dir, 'guest.S');
  const object = join(dir, 'guest.o');
  const binary = join(dir, 'guest.bin');
  writeFileSync(source, SOURCE);
  execFileSync('as', ['--32', '-o', object, source]);
  execFileSync('ld', ['-m', 'elf_i386', '-Ttext=0x7c00', '--oformat', 'binary', '-o', binary, object]);
  const code = readFileSync(binary);
  if (code.length > 5 * 512) throw new Error(`guest program is ${code.length} bytes, more than the 5 sectors loaded`);
  const disk = new Uint8Array(1 << 20);
  disk.set(code);
  writeFileSync(image, disk);
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BACKEND = fileURLToPath(new URL('./blk-backend-process.ts', import.meta.url));

/** The TS blk back-end as a child process (see blk-backend-process.ts for the flags). */
export function startBackendProcess(socket: string, image: string, flags: string[] = []): Peer {
  const args = ['--conditions=@vhost-user/source', '--import', 'tsx', BACKEND, socket, image, ...flags];
  return new Peer(process.execPath, args, { cwd: ROOT });
}

export interface IoQemuOptions {
  socket: string;
  serial: string;
  /** Reconnect to the back-end every second after it goes away. */
  reconnect?: boolean;
  qmp?: string;
  /** Wait for a migration stream on this Unix socket. */
  incoming?: string;
}

/** QEMU 7.2 for the guest program: TCG, shared memfd RAM, a transitional vhost-user-blk device. */
export function startIoQemu(options: IoQemuOptions): Peer {
  const chardev = `socket,id=c0,path=${options.socket}${options.reconnect ? ',reconnect=1' : ''}`;
  const args = [
    '-machine',
    'q35,accel=tcg',
    '-m',
    '128',
    '-object',
    'memory-backend-memfd,id=mem,size=128M,share=on',
    '-numa',
    'node,memdev=mem',
    '-chardev',
    chardev,
    '-device',
    // Transitional, so the guest program can use the legacy I/O port interface.
    'vhost-user-blk-pci,chardev=c0,bootindex=1,disable-legacy=off',
    '-display',
    'none',
    '-serial',
    `file:${options.serial}`,
    '-monitor',
    'none',
    '-nodefaults',
    '-no-user-config',
  ];
  if (options.qmp) args.push('-qmp', `unix:${options.qmp},server=on,wait=off`);
  if (options.incoming) args.push('-incoming', `unix:${options.incoming}`);
  return new Peer(findProgram('qemu-system-x86_64') as string, args);
}

/** Polls `predicate` until it holds; fails when one of `peers` exits or after `timeoutMs`. */
export async function until(what: string, predicate: () => boolean, timeoutMs: number, peers: Peer[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    for (const p of peers) if (!p.running) throw new Error(`${p.command} exited while waiting for ${what}:\n${p.log}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
