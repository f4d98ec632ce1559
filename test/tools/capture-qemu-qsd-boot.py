#!/usr/bin/env python3
"""Record a QEMU <-> qemu-storage-daemon vhost-user-blk session while SeaBIOS boots a tiny disk.

Usage:

    capture-qemu-qsd-boot.py [OUTPUT.jsonl]

OUTPUT defaults to test/vectors/sessions/qemu-7.2-qsd-boot.jsonl in this repository.
Needs qemu-system-x86_64, qemu-storage-daemon and qemu-img on PATH (Debian:
apt-get install -y --no-install-recommends qemu-system-x86 qemu-system-common qemu-utils).

Steps, all in a fresh temporary directory:
  1. a 16 MiB raw image whose sector 0 is a boot sector that prints "OK" on COM1 and halts;
  2. qemu-storage-daemon exports it as vhost-user-blk on qsd.sock;
  3. capture-session.py listens on proxy.sock and relays to qsd.sock;
  4. QEMU (TCG, q35, SeaBIOS, memfd shared memory, -S) connects to proxy.sock;
  5. over QMP: qmp_capabilities, cont, wait 2 s, quit;
  6. every process started here is stopped by its PID.
The log's meta line records versions, command lines (temporary paths shown as $DIR) and the
guest's serial output.
"""

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, "..", "vectors", "sessions", "qemu-7.2-qsd-boot.jsonl")

# 16-bit real-mode code loaded at 0x7c00: write "OK\n" to COM1 (0x3f8), then cli; hlt loop.
BOOT_CODE = bytes.fromhex(
    "baf803"  # mov dx, 0x3f8
    "b04f" "ee"  # mov al, 'O'; out dx, al
    "b04b" "ee"  # mov al, 'K'; out dx, al
    "b00a" "ee"  # mov al, '\n'; out dx, al
    "fa"  # cli
    "f4"  # hlt
    "ebfd"  # jmp back to hlt
)
BOOT_SECTOR = BOOT_CODE + bytes(510 - len(BOOT_CODE)) + b"\x55\xaa"


def wait_for_path(path, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            sys.exit(f"{proc.args[0]} exited ({proc.returncode}) before creating {path}")
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {path}")
        time.sleep(0.02)


def version(cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]


def dpkg_version(package):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return out.stdout or None


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.file = self.sock.makefile("rw")
        self.greeting = json.loads(self.file.readline())

    def command(self, name):
        self.file.write(json.dumps({"execute": name}) + "\n")
        self.file.flush()
        while True:  # skip asynchronous events
            reply = json.loads(self.file.readline() or "{}")
            if "event" not in reply:
                return reply


def stop(proc, timeout=5.0):
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def main():
    output = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUTPUT)
    tmp = tempfile.mkdtemp(prefix="vu-capture-")
    img, qsd_sock, proxy_sock = (os.path.join(tmp, n) for n in ("disk.img", "qsd.sock", "proxy.sock"))
    qmp_sock, serial_log, log = (os.path.join(tmp, n) for n in ("qmp.sock", "serial.log", "session.jsonl"))

    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", img, "16M"], check=True)
    with open(img, "r+b") as f:
        f.write(BOOT_SECTOR)

    qsd_cmd = [
        "qemu-storage-daemon",
        "--blockdev", f"driver=file,node-name=file0,filename={img}",
        "--export", f"type=vhost-user-blk,id=exp0,node-name=file0,addr.type=unix,addr.path={qsd_sock},writable=on",
    ]
    qemu_cmd = [
        "qemu-system-x86_64", "-machine", "q35,accel=tcg", "-m", "128",
        "-object", "memory-backend-memfd,id=mem,size=128M,share=on", "-numa", "node,memdev=mem",
        "-chardev", f"socket,id=c0,path={proxy_sock}",
        "-device", "vhost-user-blk-pci,chardev=c0,bootindex=1",
        "-display", "none", "-serial", f"file:{serial_log}", "-monitor", "none",
        "-qmp", f"unix:{qmp_sock},server=on,wait=off", "-S",
    ]
    proxy_cmd = [sys.executable, os.path.join(HERE, "capture-session.py"),
                 "--listen", proxy_sock, "--connect", qsd_sock, "--log", log]

    def shown(cmd):
        return " ".join(cmd).replace(tmp, "$DIR")

    meta = {
        "qemu-system-x86_64": version(["qemu-system-x86_64", "--version"]),
        "qemu-storage-daemon": version(["qemu-storage-daemon", "--version"]),
        "debian-package": f"qemu-system-x86 {dpkg_version('qemu-system-x86')}",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "frontend-cmd": shown(qemu_cmd),
        "backend-cmd": shown(qsd_cmd),
        "proxy-cmd": shown(proxy_cmd[1:]).replace(HERE + "/", ""),
        "image": "16 MiB raw; sector 0 = boot sector " + BOOT_CODE.hex() + " ... 55aa",
        "qmp": "qmp_capabilities, cont, sleep 2 s, quit",
    }
    proxy_cmd += [arg for k, v in meta.items() for arg in ("--meta", f"{k}={v}")]

    procs = []
    try:
        qsd = subprocess.Popen(qsd_cmd)
        procs.append(qsd)
        wait_for_path(qsd_sock, qsd)
        proxy = subprocess.Popen(proxy_cmd)
        procs.append(proxy)
        wait_for_path(proxy_sock, proxy)
        qemu = subprocess.Popen(qemu_cmd)
        procs.append(qemu)
        wait_for_path(qmp_sock, qemu)

        qmp = Qmp(qmp_sock)
        for cmd in ("qmp_capabilities", "cont"):
            reply = qmp.command(cmd)
            if "return" not in reply:
                sys.exit(f"QMP {cmd} failed: {reply}")
        time.sleep(2)
        qmp.command("quit")
        qemu.wait(10)
        proxy.wait(5)
    finally:
        for proc in reversed(procs):
            stop(proc)

    with open(serial_log, "rb") as f:
        serial = f.read().decode("latin-1")
    with open(log) as f:
        lines = f.readlines()
    head = json.loads(lines[0])
    head["meta"]["guest-serial"] = serial
    for key in ("listen", "connect"):
        head["meta"][key] = head["meta"][key].replace(tmp, "$DIR")
    lines[0] = json.dumps(head) + "\n"
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as f:
        f.writelines(lines)
    shutil.rmtree(tmp)
    print(f"{len(lines) - 1} messages -> {output}; guest serial: {serial!r}")
    if "OK" not in serial:
        sys.exit("the guest did not print OK: SeaBIOS did not boot the disk through vhost-user")


if __name__ == "__main__":
    main()
