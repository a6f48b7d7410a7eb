#!/usr/bin/python3
"""Provision a device over its serial console.

Sends a configuration file (console commands, one per line; '!' and '#' lines
and blank lines are skipped) command by command, waits for the prompt after
each, stops at the first error line ('% ...') and prints it with its line
number, then runs `save`.  PEM blocks for `tls cert NETIF` and `tls ca add
NAME` go in the file as they are, followed by a line `end`: the tool follows
the console's `pem> ` prompt while they are pasted.

  provision.py --socket PATH  CONFIG     # QEMU chardev unix socket
  provision.py --serial DEV   CONFIG     # serial device or pty (/dev/ttyUSB0, /dev/pts/N)
  options: --password PW (console password, if one is set), --no-save, --timeout S

Exit status: 0 applied and saved, 1 a command was refused, 2 connection/timeout.
"""
import argparse
import os
import re
import socket
import sys
import termios
import time
import tty

PROMPT = b"mta> "
PEM_PROMPT = b"pem> "   # the console while a certificate or key is pasted


class Link:
    def __init__(self, a):
        if a.socket:
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.connect(a.socket)
            self.s.settimeout(0.2)
            self.fd = None
        else:
            self.fd = os.open(a.serial, os.O_RDWR | os.O_NOCTTY)
            tty.setraw(self.fd)
            attrs = termios.tcgetattr(self.fd)
            attrs[4] = attrs[5] = termios.B115200
            termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
            self.s = None
        self.buf = b""

    def write(self, data):
        if self.s:
            self.s.sendall(data)
        else:
            os.write(self.fd, data)

    def read_some(self):
        try:
            if self.s:
                return self.s.recv(4096)
            import select
            r, _, _ = select.select([self.fd], [], [], 0.2)
            return os.read(self.fd, 4096) if r else b""
        except socket.timeout:
            return b""

    def until(self, patterns, timeout):
        """Read until one of the byte patterns appears; return (index, text before it)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, p in enumerate(patterns):
                k = self.buf.find(p)
                if k >= 0:
                    text = self.buf[:k]
                    self.buf = self.buf[k + len(p):]
                    return i, text
            if time.monotonic() > deadline:
                raise TimeoutError(f"no prompt within {timeout}s; got {self.buf[-200:]!r}")
            self.buf += self.read_some()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--socket")
    g.add_argument("--serial")
    ap.add_argument("--password")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("config")
    a = ap.parse_args()
    with open(a.config) as f:
        lines = f.read().splitlines()
    try:
        link = Link(a)
        # Fresh line: Ctrl-U drops any half-typed input, CR asks for a prompt.
        link.write(b"\x15\r")
        i, _ = link.until([PROMPT, b"Password: "], a.timeout)
        if i == 1:
            if not a.password:
                print("provision: the console asks for a password (--password)", file=sys.stderr)
                return 2
            link.write(a.password.encode() + b"\r")
            i, text = link.until([PROMPT, b"Password: "], a.timeout)
            if i == 1:
                print("provision: password refused", file=sys.stderr)
                return 2
        todo = [(n, l.strip()) for n, l in enumerate(lines, 1)
                if l.strip() and not l.strip().startswith(("!", "#"))]
        if not a.no_save:
            todo.append((0, "save"))
        for n, line in todo:
            link.write(line.encode() + b"\r")
            _, out = link.until([PROMPT, PEM_PROMPT], a.timeout)
            text = out.decode("utf-8", "replace").replace("\r\n", "\n")
            errs = [l for l in text.split("\n") if l.startswith("%")]
            if errs:
                where = f"{a.config}:{n}" if n else "save"
                print(f"provision: {where}: {line}\n  {errs[0]}", file=sys.stderr)
                return 1
        print(f"provision: {len(todo) - (0 if a.no_save else 1)} commands applied"
              + ("" if a.no_save else " and saved"))
        return 0
    except (OSError, TimeoutError) as e:
        print(f"provision: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
