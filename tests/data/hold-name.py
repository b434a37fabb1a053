#!/usr/bin/env python3
"""Stand-in bus peer for policy tests: connects to a D-Bus address, asks for
a well-known name and holds it, answering every method call with an empty
method return.

    hold-name.py ADDRESS NAME

Prints one line on stdout once the RequestName reply is in: "owner" if the
name was granted, otherwise "error <ErrorName>" or "reply <code>", and exits
at once unless it owns the name.  It then stays until the bus goes away or
it gets SIGTERM.  Only the little of the wire protocol it needs is implemented
(little-endian, strings and uint32 in bodies)."""

import os
import select
import socket
import struct
import sys

METHOD_CALL, METHOD_RETURN, ERROR, SIGNAL = 1, 2, 3, 4
F_PATH, F_INTERFACE, F_MEMBER, F_ERROR_NAME, F_REPLY_SERIAL, F_DESTINATION, \
    F_SENDER, F_SIGNATURE = 1, 2, 3, 4, 5, 6, 7, 8
NO_REPLY_EXPECTED = 0x1


def pad(buf, n):
    buf.extend(b"\0" * ((-len(buf)) % n))


def put_u32(buf, v):
    pad(buf, 4)
    buf.extend(struct.pack("<I", v))


def put_str(buf, s):
    b = s.encode()
    put_u32(buf, len(b))
    buf.extend(b + b"\0")


def put_sig(buf, s):
    b = s.encode()
    buf.extend(bytes([len(b)]) + b + b"\0")


def message(mtype, serial, fields, sig="", body=b"", flags=0):
    """fields: list of (code, typechar, value)."""
    if sig:
        fields = fields + [(F_SIGNATURE, "g", sig)]
    arr = bytearray()
    for code, t, v in fields:
        pad(arr, 8)
        arr.append(code)
        put_sig(arr, t)
        if t in "so":
            put_str(arr, v)
        elif t == "g":
            put_sig(arr, v)
        elif t == "u":
            put_u32(arr, v)
    head = bytearray(b"l" + bytes([mtype, flags, 1]))
    head.extend(struct.pack("<III", len(body), serial, len(arr)))
    head.extend(arr)
    pad(head, 8)
    return bytes(head) + body


class Conn:
    def __init__(self, address):
        path = None
        for part in address.split(";")[0].split(":", 1)[1].split(","):
            k, _, v = part.partition("=")
            if k == "path":
                path = v
        if path is None:
            raise SystemExit("only unix:path= addresses are supported")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.serial = 0
        uid = str(os.geteuid()).encode().hex()
        self.sock.sendall(b"\0AUTH EXTERNAL " + uid.encode() + b"\r\n")
        line = self.readline()
        if not line.startswith(b"OK "):
            raise SystemExit("authentication refused: %r" % line)
        self.sock.sendall(b"BEGIN\r\n")

    def readline(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def need(self, n):
        while len(self.buf) < n:
            self.fill()

    def send(self, mtype, fields, sig="", body=b"", flags=0):
        self.serial += 1
        self.sock.sendall(message(mtype, self.serial, fields, sig, body, flags))
        return self.serial

    def call(self, dest, path, iface, member, sig="", body=b""):
        return self.send(METHOD_CALL, [(F_PATH, "o", path),
                                       (F_INTERFACE, "s", iface),
                                       (F_MEMBER, "s", member),
                                       (F_DESTINATION, "s", dest)], sig, body)

    def receive(self):
        """Returns (type, flags, serial, fields dict, body bytes)."""
        self.need(16)
        if self.buf[0:1] != b"l":
            raise SystemExit("big-endian messages are not supported")
        mtype, flags = self.buf[1], self.buf[2]
        blen, serial, alen = struct.unpack_from("<III", self.buf, 4)
        hlen = 16 + alen + ((-(16 + alen)) % 8)
        self.need(hlen + blen)
        fields = {}
        i = 16
        while i < 16 + alen:
            i += (-i) % 8
            code = self.buf[i]
            slen = self.buf[i + 1]
            t = self.buf[i + 2:i + 2 + slen].decode()
            i += 3 + slen
            if t in "so":
                i += (-i) % 4
                (n,) = struct.unpack_from("<I", self.buf, i)
                fields[code] = self.buf[i + 4:i + 4 + n].decode()
                i += 5 + n
            elif t == "g":
                n = self.buf[i]
                fields[code] = self.buf[i + 1:i + 1 + n].decode()
                i += 2 + n
            elif t == "u":
                i += (-i) % 4
                (fields[code],) = struct.unpack_from("<I", self.buf, i)
                i += 4
            else:
                raise SystemExit("unexpected header field type %r" % t)
        body = self.buf[hlen:hlen + blen]
        self.buf = self.buf[hlen + blen:]
        return mtype, flags, serial, fields, body

    def wait_reply(self, serial):
        while True:
            m = self.receive()
            if m[0] in (METHOD_RETURN, ERROR) and m[3].get(F_REPLY_SERIAL) == serial:
                return m


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    address, name = sys.argv[1], sys.argv[2]
    c = Conn(address)
    bus = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
    c.wait_reply(c.call(*bus, "Hello"))
    body = bytearray()
    put_str(body, name)
    put_u32(body, 0)
    mtype, _, _, fields, rbody = c.wait_reply(c.call(*bus, "RequestName", "su", bytes(body)))
    if mtype == ERROR:
        print("error " + fields.get(F_ERROR_NAME, "?"), flush=True)
        return 1
    (code,) = struct.unpack_from("<I", rbody, 0)
    if code != 1:
        print("reply %d" % code, flush=True)
        return 1
    print("owner", flush=True)
    while True:
        ready, _, _ = select.select([c.sock], [], [])
        if c.sock in ready:
            try:
                c.fill()
            except EOFError:
                return 0
            while True:
                try:
                    # Only complete messages: receive() reads more otherwise.
                    if len(c.buf) < 16:
                        break
                    blen, _, alen = struct.unpack_from("<III", c.buf, 4)
                    if len(c.buf) < 16 + alen + ((-(16 + alen)) % 8) + blen:
                        break
                    mtype, flags, serial, fields, _ = c.receive()
                except EOFError:
                    return 0
                if mtype == METHOD_CALL and not flags & NO_REPLY_EXPECTED \
                        and F_SENDER in fields:
                    c.send(METHOD_RETURN, [(F_REPLY_SERIAL, "u", serial),
                                           (F_DESTINATION, "s", fields[F_SENDER])])


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
