#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A flood of calls to certrevoked, from one cheap process.

Opens PARALLEL connections to the bus and sends one ChangeConfirmationPassword
on each at once, and LOOPS connections that each call again as soon as the
answer came, alternating ChangeConfirmationPassword and
SetConfirmationPassword, for at most --calls calls or --seconds seconds.
Every answer is one line of --out (default standard output): "change ok",
"set Error NAME: MESSAGE", or "change timeout" for a call still unanswered
at the end.

It speaks just enough of the D-Bus wire protocol (SASL EXTERNAL, Hello,
method calls with string arguments, little-endian) to need nothing but the
standard library: a process per call would load a small machine more than
the service under test does.

  flood-client.py --bus unix:path=SOCKET [--out FILE] --old PW --new PW
                  --set-login LOGIN --set-password PW
                  [--parallel 200] [--loops 5] [--calls 500] [--seconds 8]
"""

import argparse
import os
import selectors
import socket
import struct
import sys
import time

DEST = "org.certrevoke1"
PATH = "/org/certrevoke1"
IFACE = "org.certrevoke1.Manager"
METHOD_RETURN, ERROR = 2, 3
FIELD_ERROR_NAME, FIELD_REPLY_SERIAL = 4, 5


def pad(n, a):
    return (a - n % a) % a


class Writer:
    """Marshals with offsets counted from an 8-aligned start."""

    def __init__(self):
        self.b = bytearray()

    def align(self, a):
        self.b += b"\0" * pad(len(self.b), a)

    def byte(self, v):
        self.b += struct.pack("<B", v)

    def u32(self, v):
        self.align(4)
        self.b += struct.pack("<I", v)

    def string(self, s):
        e = s.encode()
        self.u32(len(e))
        self.b += e + b"\0"

    def signature(self, s):
        e = s.encode()
        self.byte(len(e))
        self.b += e + b"\0"


def method_call(serial, dest, path, iface, member, args):
    body = Writer()
    for a in args:
        body.string(a)
    fields = Writer()
    for code, sig, value in ((1, "o", path), (2, "s", iface), (3, "s", member), (6, "s", dest)):
        fields.align(8)
        fields.byte(code)
        fields.signature(sig)
        fields.string(value)
    if args:
        fields.align(8)
        fields.byte(8)
        fields.signature("g")
        fields.signature("s" * len(args))
    head = struct.pack("<cBBBIII", b"l", 1, 0, 1, len(body.b), serial, len(fields.b))
    msg = head + bytes(fields.b)
    return msg + b"\0" * pad(len(msg), 8) + bytes(body.b)


def read_string(buf, off):
    off += pad(off, 4)
    (n,) = struct.unpack_from("<I", buf, off)
    return buf[off + 4:off + 4 + n].decode(errors="replace"), off + 4 + n + 1


def parse(buf):
    """(length, type, fields, body) of the first whole message in buf, or None."""
    if len(buf) < 16:
        return None
    if buf[0:1] != b"l":
        raise ValueError("big-endian messages are not understood")
    body_len, _, fields_len = struct.unpack_from("<III", buf, 4)
    head_len = 16 + fields_len + pad(16 + fields_len, 8)
    if len(buf) < head_len + body_len:
        return None
    fields, off, end = {}, 16, 16 + fields_len
    while off < end:
        off += pad(off, 8)
        code, sig_len = buf[off], buf[off + 1]
        sig = buf[off + 2:off + 2 + sig_len].decode()
        off += 2 + sig_len + 1
        if sig in ("s", "o"):
            fields[code], off = read_string(buf, off)
        elif sig == "u":
            off += pad(off, 4)
            (fields[code],) = struct.unpack_from("<I", buf, off)
            off += 4
        elif sig == "g":
            fields[code] = buf[off + 1:off + 1 + buf[off]].decode()
            off += 1 + buf[off] + 1
        else:
            raise ValueError("header field of type %r" % sig)
    return head_len + body_len, buf[1], fields, buf[head_len:head_len + body_len]


class Connection:
    def __init__(self, path, calls):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.serial = 0
        self.pending = {}       # serial -> what
        self.calls = calls      # iterator of (what, member, args)
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.authenticate()
        # the bus holds only a few connections that have not said Hello
        self.send("-", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", ())
        self.sock.sendall(self.wbuf)
        self.wbuf.clear()
        while self.pending:
            self.receive(None)
        self.sock.setblocking(False)

    def authenticate(self):
        uid = str(os.geteuid()).encode().hex()
        self.sock.sendall(b"\0AUTH EXTERNAL " + uid.encode() + b"\r\n")
        line = b""
        while not line.endswith(b"\r\n"):
            chunk = self.sock.recv(256)
            if not chunk:
                raise ConnectionError("the bus closed the connection during authentication")
            line += chunk
        if not line.startswith(b"OK "):
            raise ConnectionError("the bus refused authentication: %r" % line)
        self.sock.sendall(b"BEGIN\r\n")

    def send(self, what, dest, path, iface, member, args):
        self.serial += 1
        self.pending[self.serial] = what
        self.wbuf += method_call(self.serial, dest, path, iface, member, args)

    def next_call(self):
        call = next(self.calls, None)
        if call:
            what, member, args = call
            self.send(what, DEST, PATH, IFACE, member, args)

    def flush(self):
        if self.wbuf:
            n = self.sock.send(self.wbuf)
            del self.wbuf[:n]

    def receive(self, answered):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the bus closed the connection")
        self.rbuf += chunk
        while (m := parse(self.rbuf)) is not None:
            length, mtype, fields, body = m
            del self.rbuf[:length]
            what = self.pending.pop(fields.get(FIELD_REPLY_SERIAL), None)
            if what is None or mtype not in (METHOD_RETURN, ERROR):
                continue
            if what == "-":
                continue
            if mtype == METHOD_RETURN:
                answered(what, "ok")
            else:
                message = read_string(body, 0)[0] if len(body) >= 4 else ""
                answered(what, "Error %s: %s" % (fields.get(FIELD_ERROR_NAME, "?"), message))
            self.next_call()

    def busy(self):
        return bool(self.pending)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bus", required=True)
    ap.add_argument("--out", default="-")
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--set-login", required=True)
    ap.add_argument("--set-password", required=True)
    ap.add_argument("--parallel", type=int, default=200)
    ap.add_argument("--loops", type=int, default=5)
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=8)
    a = ap.parse_args()

    path = a.bus.split("unix:path=", 1)[-1].split(",", 1)[0]
    change = ("change", "ChangeConfirmationPassword", (a.old, a.new))
    set_ = ("set", "SetConfirmationPassword", (a.set_login, a.set_password, a.old))
    end = time.monotonic() + a.seconds

    def looping():
        for n in range(a.calls):
            if time.monotonic() >= end:
                return
            yield change if n % 2 == 0 else set_

    # every connection is up before the first call goes out
    conns = [Connection(path, iter([change])) for _ in range(a.parallel)]
    conns += [Connection(path, looping()) for _ in range(a.loops)]
    out = sys.stdout if a.out == "-" else open(a.out, "w")

    def answered(what, text):
        out.write("%s %s\n" % (what, text))

    sel = selectors.DefaultSelector()
    for c in conns:
        c.next_call()
        sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    give_up = end + 60
    while any(c.busy() for c in conns) and time.monotonic() < give_up:
        for key, events in sel.select(timeout=1):
            c = key.data
            if events & selectors.EVENT_READ:
                c.receive(answered)
            if events & selectors.EVENT_WRITE:
                c.flush()
            sel.modify(c.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if c.wbuf else 0), c)
    for c in conns:
        for what in c.pending.values():
            if what != "-":
                answered(what, "timeout")
        c.sock.close()
    out.flush()


if __name__ == "__main__":
    sys.exit(main())
