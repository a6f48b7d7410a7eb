"""Durable store (issue 6): mps2-an385 is killed with SIGKILL at random moments
while a client submits messages and the peer accepts them; after every restart
the recovery events appear and the recovered count covers every message that
was acknowledged but not yet at the peer at the cut; at the end every message
that got a 250 has reached the peer at least once (duplicates are counted and
reported).  Every few cuts the peer is down while the client submits, so those
cuts always find acknowledged messages in the store."""
import random
import re
import smtplib
import threading
import time

from device import free_port
from helpers import boot, queue_empty, wait_until
from peers import SmtpSink

CUTS = 20
PEER_DOWN_EVERY = 5   # cuts 2, 7, 12, 17: the peer is down while the client submits


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
                self.stop.wait(0.05)   # the device is booting or was just cut: retry


class Peer:
    """The smarthost, which can be taken down and brought back; remembers the
    X-Test-Id of every message any of its incarnations received."""

    def __init__(self, port):
        self.port, self.sink, self.seen = port, None, []

    def up(self):
        if self.sink is None:
            self.sink = SmtpSink(self.port)

    def down(self):
        if self.sink is not None:
            self.seen = self.ids()
            self.sink.stop()
            self.sink = None

    def ids(self):
        got = list(self.seen)
        if self.sink is not None:
            self.sink.wait_count(0, 5)   # dumps being written are whole first
            for meta, text in self.sink.messages():
                m = re.search(rb"X-Test-Id: (\d+)", text)
                if m:
                    got.append(int(m.group(1)))
        return got


def check_recovery(ev):
    """The events of a boot after a cut: 2219, 2206 for queues 0,1,2, then
    2207; returns the number of messages 2207 says were recovered."""
    # unclean shutdown every time: 2219, then 2206 for queues 0,1,2, then 2207
    assert re.search(r"2219 store: ", ev), ev
    qs = re.findall(r"2206 store: recovery is checking queue (\d)", ev)
    assert qs == ["0", "1", "2"], ev
    m = re.search(r"2207 store: recovery completed: (\d+) messages? recovered", ev)
    assert m, ev
    return int(m.group(1))


def test_power_cuts_lose_nothing_acknowledged(tmp_path):
    rnd = random.Random(20261125)
    smtp_port, smarthost_port = free_port(), free_port()
    peer = Peer(smarthost_port)
    acked = set()
    next_no = 0
    recovered_seen = 0
    pending_at_cuts = 0   # acknowledged, not at the peer, when the power went
    dev = None
    try:
        for cut in range(CUTS + 1):
            # the same tmp_path every time: the same flash.img, a power cycle
            dev = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port, timeout=20)
            ev = dev.cmd("events")
            assert "1000 system: system started" in ev, ev
            if cut == 0:
                # a blank store: nothing to recover
                assert not re.search(r"\b22(19|06|07) store:", ev), ev
            else:
                recovered = check_recovery(ev)
                recovered_seen += recovered
                # every message acknowledged before the cut and not at the
                # peer is in the store now (at least: some not acknowledged
                # may have been sealed too)
                pending = acked - set(peer.ids())
                assert recovered >= len(pending), (recovered, sorted(pending)[:20], ev)
                pending_at_cuts += len(pending)
            peer.up()
            if cut == CUTS:
                break
            peer_down = cut % PEER_DOWN_EVERY == 2
            if peer_down:
                peer.down()
            sub = Submitter(smtp_port, next_no, acked)
            sub.start()
            if peer_down:
                # the device accepts and defers: acknowledged messages wait in its store
                wait_until(lambda: acked - set(peer.ids()), 30, "acknowledged messages held with the peer down",
                           detail=lambda: dev.cmd("show stats") + dev.cmd("events last 10"))
            time.sleep(rnd.uniform(0.3, 2.5))   # a random moment for the cut
            dev.kill()  # SIGKILL: a power cut
            sub.stop.set()
            sub.join(10)
            next_no = sub.no
        # the last boot delivers whatever is left (deferred ones without waiting for their retry)
        dev.cmd("queue flush")
        wait_until(lambda: queue_empty(dev), 120, "queue empty after the last boot",
                   detail=lambda: dev.cmd("show queue"))
        wait_until(lambda: acked <= set(peer.ids()), 30, "every acknowledged message at the peer",
                   detail=lambda: sorted(acked - set(peer.ids()))[:20])
        dev.send("poweroff\r")
        dev.wait_exit(10)
        got = peer.ids()
        lost = sorted(acked - set(got))
        dups = len(got) - len(set(got))
        print(f"power cuts: {CUTS}, acknowledged {len(acked)}, delivered {len(set(got))} distinct, "
              f"duplicates {dups}, recovered at boot {recovered_seen}, "
              f"acknowledged and not yet delivered at the cuts {pending_at_cuts}")
        assert len(acked) > 0
        assert lost == [], f"acknowledged but never delivered: {lost[:20]}"
        # the cuts did find acknowledged messages in the store, and recovery brought them back
        assert pending_at_cuts > 0 and recovered_seen >= pending_at_cuts
    finally:
        if dev:
            dev.kill()
        peer.down()
