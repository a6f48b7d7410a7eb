"""Bounces (issue 3): a peer that refuses a recipient with 5xx makes the device
send one RFC 3464 report to the envelope sender, and never one to the null
sender (no bounce loops)."""
import re
import subprocess
import time

from device import Device, free_port, qemu_mps2
from peers import SmtpSink


def test_5xx_gives_one_dsn_to_the_sender_and_none_for_the_null_sender():
    smtp_port, smarthost_port, lanhub_port = free_port(), free_port(), free_port()
    refusing = SmtpSink(smarthost_port, options=["-f", "rcpt"])  # every RCPT: 500 5.3.0
    lanhub = SmtpSink(lanhub_port)
    dev = Device(qemu_mps2(smtp_port, smarthost_port, more_peers=[("10.0.2.101", lanhub_port)]),
                 name="mps2-an385")
    try:
        dev.expect(r"mta> ", timeout=10)
        dev.cmd("peer add lanhub 10.0.2.101 port 25 via eth0")
        dev.cmd("route add lan.test lanhub")
        r = subprocess.run(["swaks", "--server", f"127.0.0.1:{smtp_port}", "--from", "dev@lan.test",
                            "--to", "user@example.com", "--header", "Subject: will bounce",
                            "--body", "x", "--timeout", "30"], capture_output=True, timeout=60)
        assert "250 2.0.0" in r.stdout.decode()
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
        r = subprocess.run(["swaks", "--server", f"127.0.0.1:{smtp_port}", "--from", "",
                            "--to", "user@example.com", "--body", "x", "--timeout", "30"],
                           capture_output=True, timeout=60)
        assert "250 2.0.0" in r.stdout.decode(), r.stdout.decode()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "0 messages" not in dev.cmd("show queue"):
            time.sleep(0.5)
        assert "0 messages" in dev.cmd("show queue")
        time.sleep(1)
        assert len(lanhub.files()) == 1
    finally:
        dev.kill()
        refusing.stop()
        lanhub.stop()
