#!/usr/bin/env python3
"""Transparent vhost-user proxy that records a session as JSON lines.

The proxy sits between a vhost-user front-end (e.g. QEMU) and a back-end (e.g.
qemu-storage-daemon). It listens on a Unix socket for the front-end, connects
to the back-end's socket once the front-end has connected, and forwards every
byte and every file descriptor (SCM_RIGHTS) both ways, unchanged.

Usage:

    capture-session.py --listen FRONTEND.sock --connect BACKEND.sock \\
        --log session.jsonl [--meta KEY=VALUE ...]

Start the back-end first, then this proxy, then point the front-end at
FRONTEND.sock. The proxy serves one front-end connection and exits when either
side closes the main socket (or on SIGTERM/SIGINT).

Output: the first line is {"meta": {...}} (socket paths, start time and any
--meta pairs); every following line is one vhost-user message:

    {"t": 0.0123, "dir": "frontend->backend", "hex": "0100000001000000...", "fds": 0}

  t     seconds since the proxy started, taken when the whole message was read
  dir   "frontend->backend", "backend->frontend" (main socket), or
        "backend-channel:backend->frontend" / "backend-channel:frontend->backend"
  hex   the whole message: 12-byte header (u32 request, u32 flags, u32 size,
        little-endian) followed by `size` payload bytes
  fds   number of file descriptors that travelled with the message

Back-end channel: when the front-end sends VHOST_USER_SET_BACKEND_REQ_FD
(request 21, formerly SET_SLAVE_REQ_FD) with a socket, the proxy keeps that
socket, creates a socketpair, and hands one end of the pair to the back-end
instead. Traffic on the back-end channel is then relayed and logged like the
main socket. The message bytes are forwarded unchanged; only the descriptor
number differs, which is invisible to both peers.

Every received descriptor is closed by the proxy after it has been forwarded:
the peer owns its own copy.

Messages are read exactly up to their boundaries (header first, then the
payload), so descriptors that arrive during a read belong to the message being
read, just as a vhost-user peer reading the same stream would see them.
"""

import argparse
import array
import datetime
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

HEADER = struct.Struct("<III")  # request, flags, size
SET_BACKEND_REQ_FD = 21
MAX_FDS = 32  # more than any vhost-user message carries (SET_MEM_TABLE: 8)


def recv_with_fds(sock, nbytes):
    """Read up to nbytes from sock; return (data, [fds])."""
    data, ancdata, flags, _ = sock.recvmsg(
        nbytes, socket.CMSG_SPACE(MAX_FDS * 4), socket.MSG_CMSG_CLOEXEC
    )
    fds = array.array("i")
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(cdata) - len(cdata) % fds.itemsize
            fds.frombytes(cdata[:usable])
    if flags & socket.MSG_CTRUNC:
        print("capture-session: warning: control data truncated (fds lost)", file=sys.stderr)
    return data, list(fds)


def send_with_fds(sock, data, fds):
    """Write all of data to sock; the fds travel with the first byte."""
    ancdata = []
    if fds:
        ancdata = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
    sent = sock.sendmsg([data], ancdata)
    if sent < len(data):
        sock.sendall(data[sent:])


class Direction:
    """One direction of one socket: reads whole messages from src, forwards to dst."""

    def __init__(self, name, src, dst):
        self.name = name
        self.src = src
        self.dst = dst
        self.buf = bytearray()
        self.fds = []

    def bytes_wanted(self):
        if len(self.buf) < HEADER.size:
            return HEADER.size - len(self.buf)
        _, _, size = HEADER.unpack_from(self.buf)
        return HEADER.size + size - len(self.buf)

    def read(self):
        """Read from src. Return a complete (message, fds), None if incomplete, or raise EOFError."""
        data, fds = recv_with_fds(self.src, self.bytes_wanted())
        self.fds.extend(fds)
        if not data:
            raise EOFError(self.name)
        self.buf += data
        if self.bytes_wanted() > 0:
            return None
        message, fds = bytes(self.buf), self.fds
        self.buf, self.fds = bytearray(), []
        return message, fds


class Proxy:
    def __init__(self, listen_path, connect_path, log_file):
        self.listen_path = listen_path
        self.connect_path = connect_path
        self.log_file = log_file
        self.start = time.monotonic()
        self.selector = selectors.DefaultSelector()
        self.main_sockets = []
        self.channel_sockets = []

    def log(self, direction, message, nfds):
        record = {
            "t": round(time.monotonic() - self.start, 6),
            "dir": direction,
            "hex": message.hex(),
            "fds": nfds,
        }
        self.log_file.write(json.dumps(record) + "\n")
        self.log_file.flush()

    def watch(self, direction):
        self.selector.register(direction.src, selectors.EVENT_READ, direction)

    def accept_frontend(self):
        if os.path.exists(self.listen_path):
            os.unlink(self.listen_path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(self.listen_path)
        server.listen(1)
        try:
            frontend, _ = server.accept()
        finally:
            server.close()
            os.unlink(self.listen_path)
        backend = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        backend.connect(self.connect_path)
        self.main_sockets = [frontend, backend]
        self.watch(Direction("frontend->backend", frontend, backend))
        self.watch(Direction("backend->frontend", backend, frontend))

    def open_backend_channel(self, frontend_end):
        """Interpose on the back-end channel; return the fd to give the back-end."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        frontend_side = socket.socket(fileno=frontend_end)
        self.channel_sockets += [frontend_side, ours]
        self.watch(Direction("backend-channel:backend->frontend", ours, frontend_side))
        self.watch(Direction("backend-channel:frontend->backend", frontend_side, ours))
        return theirs

    def close_backend_channel(self):
        for s in self.channel_sockets:
            self.selector.unregister(s)
            s.close()
        self.channel_sockets = []

    def forward(self, direction, message, fds):
        request, _, _ = HEADER.unpack_from(message)
        kept = []  # fds the proxy keeps open (the front-end's back-end channel)
        substitute = None
        if direction.name == "frontend->backend" and request == SET_BACKEND_REQ_FD and len(fds) == 1:
            substitute = self.open_backend_channel(fds[0])
            kept = [fds[0]]
            out_fds = [substitute.fileno()]
        else:
            out_fds = fds
        self.log(direction.name, message, len(fds))
        try:
            send_with_fds(direction.dst, message, out_fds)
        finally:
            for fd in fds:
                if fd not in kept:
                    os.close(fd)
            if substitute is not None:
                substitute.close()

    def run(self):
        self.accept_frontend()
        while True:
            for key, _ in self.selector.select():
                direction = key.data
                try:
                    complete = direction.read()
                    if complete is not None:
                        self.forward(direction, *complete)
                except (EOFError, ConnectionError) as e:
                    if direction.src in self.channel_sockets or direction.dst in self.channel_sockets:
                        self.close_backend_channel()
                        break  # selector keys changed; select again
                    if direction.buf:
                        print(f"capture-session: {direction.name}: {len(direction.buf)} bytes of an"
                              " incomplete message at close", file=sys.stderr)
                    print(f"capture-session: {direction.name}: closed ({e.__class__.__name__})",
                          file=sys.stderr)
                    return

    def close(self):
        for s in self.main_sockets + self.channel_sockets:
            s.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", required=True, help="socket path the front-end connects to")
    parser.add_argument("--connect", required=True, help="back-end's listening socket path")
    parser.add_argument("--log", required=True, help="JSON-lines output file")
    parser.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                        help="extra field for the meta line (repeatable)")
    args = parser.parse_args()

    meta = {
        "tool": "capture-session.py",
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "listen": args.listen,
        "connect": args.connect,
    }
    for pair in args.meta:
        key, _, value = pair.partition("=")
        meta[key] = value

    # Turn SIGTERM into a clean exit so the log is complete and sockets are closed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    with open(args.log, "w") as log_file:
        log_file.write(json.dumps({"meta": meta}) + "\n")
        log_file.flush()
        proxy = Proxy(args.listen, args.connect, log_file)
        try:
            proxy.run()
        except KeyboardInterrupt:
            pass
        finally:
            proxy.close()


if __name__ == "__main__":
    main()
