"""Durable store (issue 6): mps2-an385 is killed with SIGKILL at random moments
while a client submits messages and the peer accepts them; after every restart
the recovery events appear; at the end every message that got a 250 has
reached the peer at least once (duplicates are counted and reported)."""
import os
import random
import re
import smtplib
import tempfile
import threading
import time

import pytest

from device import Device, free_port, qemu_mps2
from peers import SmtpSink

CUTS = 20


class Submitter(threading.Thread):
    """Sends numbered messages one after another; records the numbers whose
    final reply was 250 (the device then owns them)."""

    def __init__(self, port, start_no, acked):
        super().__init__(daemon=True)
        self.port, self.no, self.acked = port, start_no, acked
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as s:
                    while not self.stop.is_set():
                        n = self.no
                        self.no += 1
                        msg = (f"Subject: cut test {n}\r\nX-Test-Id: {n}\r\n\r\n" + f"body {n}\r\n" * 20)
                        s.sendmail("dev@lan.test", ["user@example.com"], msg)
                        self.acked.add(n)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.05)


def recovery_events(dev):
    return dev.cmd("events")


def test_power_cuts_lose_nothing_acknowledged():
    rnd = random.Random(20261125)
    tmp = tempfile.mkdtemp(prefix="cut-")
    smtp_port, smarthost_port = free_port(), free_port()
    sink = SmtpSink(smarthost_port)
    acked = set()
    next_no = 0
    recovered_seen = 0
    try:
        for cut in range(CUTS + 1):
            dev = Device(qemu_mps2(smtp_port, smarthost_port), name="mps2-an385", cwd=tmp)
            last = cut == CUTS
            try:
                dev.expect(r"mta> ", timeout=20)
                ev = dev.cmd("events")
                if cut > 0:
                    # unclean shutdown every time: 2219, then 2206 for queues 0,1,2, then 2207
                    assert re.search(r"2219 store: ", ev), ev
                    qs = re.findall(r"2206 store: recovery is checking queue (\d)", ev)
                    assert qs == ["0", "1", "2"], ev
                    m = re.search(r"2207 store: recovery completed: (\d+) messages? recovered", ev)
                    assert m, ev
                    recovered_seen += int(m.group(1))
                if cut == CUTS:
                    break
                sub = Submitter(smtp_port, next_no, acked)
                sub.start()
                time.sleep(rnd.uniform(0.3, 2.5))
                dev.kill()  # SIGKILL: a power cut
                sub.stop.set()
                sub.join(10)
                next_no = sub.no
            finally:
                if not last:
                    dev.kill()
        # the last boot delivers whatever is left
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if re.search(r"^0 messages", dev.cmd("show queue"), re.M):
                break
            time.sleep(1)
        dev.send("poweroff\r")
        dev.wait_exit(10)
        dev.kill()
        time.sleep(1)
        got = []
        for meta, text in sink.messages():
            m = re.search(rb"X-Test-Id: (\d+)", text)
            if m:
                got.append(int(m.group(1)))
        lost = sorted(acked - set(got))
        dups = len(got) - len(set(got))
        print(f"power cuts: {CUTS}, acknowledged {len(acked)}, delivered {len(set(got))} distinct, "
              f"duplicates {dups}, recovered at boot {recovered_seen}")
        assert len(acked) > 0
        assert lost == [], f"acknowledged but never delivered: {lost[:20]}"
    finally:
        sink.stop()
