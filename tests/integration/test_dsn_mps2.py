"""Bounces (issue 3): a peer that refuses a recipient with 5xx makes the device
send one RFC 3464 report to the envelope sender, and never one to the null
sender (no bounce loops)."""
import re

from device import free_port
from helpers import boot, queue_empty, show_stats, swaks, wait_until
from peers import SmtpSink


def test_5xx_gives_one_dsn_to_the_sender_and_none_for_the_null_sender(tmp_path):
    smtp_port, smarthost_port, lanhub_port = free_port(), free_port(), free_port()
    refusing = SmtpSink(smarthost_port, options=["-f", "rcpt"])  # every RCPT: 500 5.3.0
    lanhub = SmtpSink(lanhub_port)
    dev = None
    try:
        dev = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port, timeout=10,
                   more_peers=[("10.0.2.101", lanhub_port)])
        dev.cmd("peer add lanhub 10.0.2.101 port 25 via eth0")
        dev.cmd("route add lan.test lanhub")
        rc, out = swaks(smtp_port, helo=None, subject="will bounce", body="x")
        assert "250 2.0.0" in out, out
        assert lanhub.wait_count(1, 30) == 1, dev.cmd("show queue") + dev.cmd("events")
        meta, text = lanhub.messages()[0]
        assert meta["X-Mail-Args"][0].startswith("<>")           # from the null sender
        assert meta["X-Rcpt-Args"] == ["<dev@lan.test>"]
        t = text.decode("utf-8", "replace")
        assert re.search(r"^From: .*MAILER-DAEMON@mta\.eth0\.gateway\.test", t, re.M | re.I), t[:800]
        assert re.search(r"multipart/report;\s*report-type=\"?delivery-status", t, re.I), t[:800]
        assert re.search(r"^Final-Recipient: rfc822; ?user@example\.com", t, re.M | re.I), t
        assert re.search(r"^Action: failed", t, re.M), t
        assert re.search(r"^Status: 5\.3\.0", t, re.M), t
        assert re.search(r"^Diagnostic-Code: smtp; ?500", t, re.M), t
        assert "Subject: will bounce" in t                        # the original headers
        assert re.search(r"1400 queue: message \w+ bounced", dev.cmd("events id 1400"))
        # a message from the null sender that fails produces no report
        rc, out = swaks(smtp_port, frm="", helo=None, body="x")
        assert "250 2.0.0" in out, out
        # the positive signal: both messages have failed and the queue is
        # empty, so whatever reports were made have been delivered ...
        wait_until(lambda: show_stats(dev)["failed"] == 2 and queue_empty(dev), 30,
                   "both messages failed and the queue drained", detail=lambda: dev.cmd("show stats"))
        # ... and exactly one was made: the first message's (the positive
        # control beside "none for the null sender")
        stats = show_stats(dev)
        assert stats["DSNs"] == 1 and stats["dropped"] == 0, dev.cmd("show stats")
        assert lanhub.wait_count(1, 10) == 1 and len(lanhub.files()) == 1
    finally:
        if dev:
            dev.kill()
        refusing.stop()
        lanhub.stop()
