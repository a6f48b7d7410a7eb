"""Latency probe: sends timestamped messages while the load runs.

Runs inside the benchmark's network namespace (started with `ip netns exec`).
Every INTERVAL seconds it opens a new SMTP session, sends one message of SIZE
payload octets carrying `X-Bench-Probe: TAG-I` and `X-Bench-Sent: <ns>` (the
wall-clock time of DATA), and records the wall-clock time (time.time_ns(),
CLOCK_REALTIME, the clock file mtimes use) at which it finished sending the
final "." (end of DATA) and at which the 250 arrived.  It stops after MAX
messages or when a line (or EOF) arrives on stdin (unless --ignore-stdin), then prints one JSON object
per probe on stdout.
"""
import argparse
import json
import select
import socket
import sys
import time


def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("connection closed")
        lines.append(line.decode("latin-1").rstrip())
        if len(line) < 4 or line[3:4] != b"-":
            return lines[-1]


def payload(size):
    line = b"x" * 78 + b"\r\n"
    body = line * (size // len(line))
    rest = size - len(body)
    if rest >= 2:
        body += b"y" * (rest - 2) + b"\r\n"
    return body


def one(host, port, tag, i, body, timeout):
    rec = {"id": f"{tag}-{i}"}
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        f = s.makefile("rb")
        for cmd, want in ((None, "220"), (b"EHLO probe.bench.test\r\n", "250"),
                          (b"MAIL FROM:<probe@lan.test>\r\n", "250"),
                          (b"RCPT TO:<probe@example.com>\r\n", "250"), (b"DATA\r\n", "354")):
            if cmd:
                s.sendall(cmd)
            r = reply(f)
            if not r.startswith(want):
                rec["error"] = r
                return rec
        sent = time.time_ns()
        hdr = (f"From: probe@lan.test\r\nTo: probe@example.com\r\nSubject: probe {i}\r\n"
               f"X-Bench-Probe: {tag}-{i}\r\nX-Bench-Sent: {sent}\r\n\r\n").encode()
        s.sendall(hdr + body + b".\r\n")
        rec["eod_ns"] = time.time_ns()
        r = reply(f)
        rec["ok_ns"] = time.time_ns()
        rec["reply"] = r
        if not r.startswith("250"):
            rec["error"] = r
        s.sendall(b"QUIT\r\n")
        try:
            reply(f)
        except (OSError, ConnectionError):
            pass
    except (OSError, ConnectionError) as e:
        rec["error"] = f"{type(e).__name__}: {e}"
    finally:
        s.close()
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--max", type=int, default=1000)
    ap.add_argument("--tag", default="p")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--ignore-stdin", action="store_true", help="stop only after --max probes")
    a = ap.parse_args()
    body = payload(a.size)
    out = []
    nxt = time.monotonic()
    for i in range(a.max):
        wait = max(0.0, nxt - time.monotonic())
        if a.ignore_stdin:
            time.sleep(wait)
        else:
            r, _, _ = select.select([sys.stdin], [], [], wait)
            if r:
                break
        nxt = time.monotonic() + a.interval
        try:
            out.append(one(a.host, a.port, a.tag, i, body, a.timeout))
        except OSError as e:  # could not even connect
            out.append({"id": f"{a.tag}-{i}", "error": f"{type(e).__name__}: {e}"})
    for rec in out:
        print(json.dumps(rec))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
