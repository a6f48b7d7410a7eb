"""A report survives a power cut (issue 14).  The cut exactly between a
failure and its report cannot be timed from outside; the flash simulator
does that at every program and erase (test_store_flash.c,
test_report_power_cut: at least once).  Here the device is killed (SIGKILL)
after the report was queued and before the sender's MTA could take it: after
the restart it is delivered, exactly once, and the failure is not reported
again."""
import re

from device import free_port
from helpers import boot, swaks, wait_until
from peers import SmtpSink


def test_report_queued_before_power_cut_arrives_once_after(tmp_path):
    smtp_port, smarthost_port, lanhub_port = free_port(), free_port(), free_port()
    refusing = SmtpSink(smarthost_port, options=["-f", "rcpt"])  # every RCPT: 500 5.3.0
    lanhub = None
    peers = [("10.0.2.101", lanhub_port)]
    dev = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port, more_peers=peers)
    try:
        dev.cmd("peer add lanhub 10.0.2.101 port 25 via eth0")
        dev.cmd("route add lan.test lanhub")
        dev.cmd("queue retry 3 5 3600")
        dev.cmd("save")
        rc, out = swaks(smtp_port, subject="cut after the report", body="x")
        assert "250 2.0.0" in out, out
        # the report is queued (1400) and the original gone; the sender's MTA is down
        wait_until(lambda: re.search(r"1400 queue: message \w+ bounced", dev.cmd("events id 1400")), 30,
                   "1400 for the refused message")
        wait_until(lambda: "<>" in dev.cmd("show queue") and "1 message" in dev.cmd("show queue"), 30,
                   "only the report queued", detail=lambda: dev.cmd("show queue"))
        dev.kill()  # SIGKILL: a power cut
        lanhub = SmtpSink(lanhub_port)
        dev = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port, more_peers=peers)
        assert re.search(r"2219 store: ", dev.cmd("events")), dev.cmd("events")
        assert lanhub.wait_count(1, 60) == 1, dev.cmd("show queue") + dev.cmd("events")
        # the queue is empty: nothing more can come, so one at the sink is all
        wait_until(lambda: "0 messages" in dev.cmd("show queue"), 30, "queue empty",
                   detail=lambda: dev.cmd("show queue"))
        assert len(lanhub.files()) == 1
        meta, raw = lanhub.messages()[0]
        assert meta["X-Mail-Args"][0].startswith("<>")
        t = raw.decode("utf-8", "replace")
        assert re.search(r"^Final-Recipient: rfc822; ?user@example\.com", t, re.M), t
        assert "Subject: cut after the report" in t
        # the failure was not reported again after the restart
        assert not re.search(r"1400 queue", dev.cmd("events id 1400")), dev.cmd("events id 1400")
    finally:
        dev.kill()
        refusing.stop()
        if lanhub:
            lanhub.stop()
