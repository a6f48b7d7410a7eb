#!/usr/bin/python3
"""Postfix at its default concurrency relays N x S bytes through mps2-an385
(issue 13): client Postfix (relayhost = the device) -> mps2-an385 in QEMU ->
smarthost Postfix -> Maildir.

Reports the time from the first submission to the last message in the
Maildir, the client's 4xx deferrals by kind, bounces and greeting timeouts.
Postfix runs with its defaults (default_destination_concurrency_limit 20,
queue_run_delay/minimal_backoff_time 300 s) unless --fast-retry is given, so
a single deferral shows as a 5 minute tail: that is what a user would see.

    make bench-postfix                    # N=500 S=2048
    /usr/bin/python3 tests/bench/postfix_mps2.py --n 500 --size 2048 [--fast-retry]
"""
import argparse
import os
import re
import smtplib
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from device import free_port  # noqa: E402
from helpers import boot, show_stats  # noqa: E402
from postfix import PostfixInstance  # noqa: E402

FAST_RETRY = "queue_run_delay = 2s\nminimal_backoff_time = 2s\nmaximal_backoff_time = 4s\n"


def message(i, size):
    hdr = (f"From: <dev{i}@lan.test>\r\nTo: <user{i}@dest.test>\r\nSubject: bench {i:04d}\r\n"
           f"Message-ID: <{i}.bench@lan.test>\r\n\r\n").encode()
    line = b"b" * 76 + b"\r\n"
    return hdr + line * max(1, (size - len(hdr)) // len(line))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--fast-retry", action="store_true", help="deferrals retried after seconds, not 5 min")
    ap.add_argument("--timeout", type=int, default=1800)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-postfix-")
    smtp_port, smarthost_port, client_port = free_port(), free_port(), free_port()
    smarthost = PostfixInstance.mailbox(os.path.join(tmp, "smarthost"), "127.0.0.1", smarthost_port, "dest.test")
    client = PostfixInstance.relay(os.path.join(tmp, "client"), "127.0.0.1", client_port, "127.0.0.1", smtp_port,
                                   extra_main=FAST_RETRY if a.fast_retry else "")
    dev = boot(tmp, smtp_port=smtp_port, smarthost_port=smarthost_port)
    try:
        smarthost.start()
        client.start()
        t0 = time.monotonic()
        with smtplib.SMTP("127.0.0.1", client.port, timeout=60) as s:
            for i in range(a.n):
                s.sendmail(f"dev{i}@lan.test", [f"user{i}@dest.test"], message(i, a.size))
        t_sub = time.monotonic() - t0
        while len(smarthost.maildir_messages()) < a.n and time.monotonic() - t0 < a.timeout:
            time.sleep(0.5)
        took = time.monotonic() - t0
        got = len(smarthost.maildir_messages())
        log = client.log_text()
        deferred = re.findall(r"status=deferred \(([^)]*)", log)
        kinds = {}
        for d in deferred:
            m = re.search(r"\b([45]\d\d)[ -]", d)
            k = m.group(1) if m else re.sub(r"\d+\.\d+\.\d+\.\d+\[[^]]*\]:?\d*", "", d)[:60]
            kinds[k] = kinds.get(k, 0) + 1
        stats = show_stats(dev)
        print(f"postfix -> mps2-an385 -> postfix: {got}/{a.n} x {a.size} B in {took:.1f} s "
              f"(submitted to the client in {t_sub:.1f} s), retry {'fast' if a.fast_retry else 'Postfix default'}")
        print(f"  client deferrals {len(deferred)}: {kinds}")
        print(f"  bounced {log.count('status=bounced')}, greeting timeouts "
              f"{log.count('timed out while receiving the initial server greeting')}")
        print(f"  device: refused busy {stats.get('refused busy')}, sessions {stats.get('sessions')}")
        return 0 if got == a.n else 1
    finally:
        client.stop()
        dev.kill()
        smarthost.stop()


if __name__ == "__main__":
    sys.exit(main())
