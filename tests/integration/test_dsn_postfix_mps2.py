"""Delivery status notifications against real Postfix instances (issue 14).

1. Smarthost: a private Postfix accepts one recipient, defers one (450) and
   rejects one (550).  The 550 is reported within seconds of that attempt,
   while the 450 one is still queued; the report parses with Python's email
   package as multipart/report; report-type=delivery-status with the RFC 3464
   fields; the deferred one is delivered later and no second report follows.
   The device passes RET/ENVID/NOTIFY/ORCPT on to the smarthost, which does
   DSN (seen where it relays them to its own sink).
2. Client: a private Postfix submits with `sendmail -N success,failure,delay`
   through the device: the device offers DSN, so Postfix sends no notice of
   its own; the device's peer (smtp-sink without ESMTP) does not do DSN, so
   the device sends the sender a "relayed" report.
"""
import email
import email.policy
import re
import smtplib

from device import free_port
from helpers import boot, wait_until
from peers import SmtpSink
from postfix import PostfixInstance

REJECT = "550 5.1.1 no such user here, see the postmaster of dest.test for the reason"


def _status_groups(report):
    """The message/delivery-status part: [per-message fields, per-recipient...]."""
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    parts = report.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    ds = parts[1]
    assert ds.get_content_type() == "message/delivery-status"
    return parts, ds.get_payload()


def _unfold(v):
    return re.sub(r"\r?\n[ \t]", " ", str(v)) if v is not None else v


def test_prompt_complete_report_through_postfix_smarthost(tmp_path):
    smtp_port, smarthost_port, lanhub_port, relay_port = free_port(), free_port(), free_port(), free_port()
    relay = SmtpSink(relay_port)              # where the smarthost relays what it accepts
    lanhub = SmtpSink(lanhub_port)            # the sender's domain: receives the report
    pf = PostfixInstance.relay(tmp_path / "smarthost", "127.0.0.1", smarthost_port, "127.0.0.1", relay_port,
                               hostname="postfix.peer.test",
                               access={"bad@dest.test": REJECT, "later@dest.test": "450 4.7.1 try later"}).start()
    dev = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port,
               more_peers=[("10.0.2.101", lanhub_port)])
    try:
        dev.cmd("peer add lanhub 10.0.2.101 port 25 via eth0")
        dev.cmd("route add lan.test lanhub")
        dev.cmd("queue retry 3 5 3600")
        dev.cmd("clock set 2026-12-04T12:00:00Z")
        s = smtplib.SMTP("127.0.0.1", smtp_port, timeout=30)
        s.ehlo("client.lan.test")
        assert s.has_extn("dsn"), s.esmtp_features        # RFC 3461 4
        assert s.mail("dev@lan.test", ["RET=HDRS", "ENVID=QQ+2B1"])[0] == 250
        assert s.rcpt("ok@dest.test", ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;ok-orig@dest.test"])[0] == 250
        assert s.rcpt("later@dest.test", ["NOTIFY=FAILURE,DELAY"])[0] == 250
        assert s.rcpt("bad@dest.test", ["NOTIFY=FAILURE", "ORCPT=rfc822;Bad+2BOrig@dest.test"])[0] == 250
        code, _ = s.data(b"From: dev@lan.test\r\nSubject: three recipients\r\n\r\nbody\r\n")
        assert code == 250
        s.quit()

        # the 550 is reported promptly: after that attempt, while the 450 one
        # (deferred until the access map changes below) is still queued
        assert lanhub.wait_count(1, 30) == 1, dev.cmd("show queue") + dev.cmd("events") + pf.log_tail()
        assert "later@dest.test" in dev.cmd("show queue")
        qid = re.search(r"^\s*([0-9A-F]{8})\s", dev.cmd("show queue"), re.M).group(1)
        detail = dev.cmd(f"queue show {qid}")
        assert re.search(r"bad@dest\.test\s+failed.*\n.*last reply: 550 5\.1\.1.*\n\s+peer \[10\.0\.2\.100\], reported",
                         detail), detail
        meta, raw = lanhub.messages()[0]
        assert meta["X-Mail-Args"][0].startswith("<>")
        assert meta["X-Rcpt-Args"] == ["<dev@lan.test>"]
        report = email.message_from_bytes(raw, policy=email.policy.compat32)
        parts, groups = _status_groups(report)
        per_msg, rcpts = groups[0], groups[1:]
        assert per_msg["Original-Envelope-Id"] == "QQ+1"                 # ENVID, xtext decoded
        assert per_msg["Reporting-MTA"] == "dns; mta.eth0.gateway.test"
        assert per_msg["Arrival-Date"]                                    # clock was set
        assert len(rcpts) == 1, raw.decode()                              # only the failed one
        r = rcpts[0]
        assert r["Final-Recipient"] == "rfc822; bad@dest.test"
        assert r["Original-Recipient"] == "rfc822; Bad+Orig@dest.test"
        assert r["Action"] == "failed"
        assert r["Status"] == "5.1.1"
        assert r["Remote-MTA"] == "dns; [10.0.2.100]"
        assert _unfold(r["Diagnostic-Code"]) == (
            "smtp; 550 5.1.1 <bad@dest.test>: Recipient address rejected: "
            + REJECT.split(" ", 2)[2]), r["Diagnostic-Code"]             # the whole reply
        assert r["Last-Attempt-Date"]
        assert "Subject: three recipients" in parts[2].as_string()
        assert re.search(r"1400 queue: message \w+ bounced", dev.cmd("events id 1400"))

        # RFC 3461 5.2: the parameters reached the smarthost, which does DSN
        assert relay.wait_count(1, 30) >= 1, pf.log_tail()
        rmeta, _ = relay.messages()[0]
        assert "ENVID=QQ+2B1" in rmeta["X-Mail-Args"][0] and "RET=HDRS" in rmeta["X-Mail-Args"][0], rmeta
        assert rmeta["X-Rcpt-Args"] == ["<ok@dest.test> ORCPT=rfc822;ok-orig@dest.test NOTIFY=SUCCESS,FAILURE"], rmeta

        # the deferral ends: delivered once, and no second report
        pf.set_access({"bad@dest.test": REJECT})
        wait_until(lambda: "0 messages" in dev.cmd("show queue"), 60, "queue empty",
                   detail=lambda: dev.cmd("show queue") + pf.log_tail())
        assert relay.wait_count(2, 30) == 2
        assert [m["X-Rcpt-Args"][0].split()[0] for m, _ in relay.messages()] == ["<ok@dest.test>",
                                                                               "<later@dest.test>"]
        # a second report would have been queued, and so delivered, before the
        # queue emptied: one at the sender's MTA is all
        assert len(lanhub.files()) == 1
    finally:
        dev.kill()
        pf.cleanup()
        relay.stop()
        lanhub.stop()


def test_postfix_client_gets_relayed_report_through_non_dsn_peer(tmp_path):
    smtp_port, smarthost_port, lanhub_port, client_port, dummy = (free_port(), free_port(), free_port(),
                                                                  free_port(), free_port())
    nodsn = SmtpSink(smarthost_port, options=["-e"])   # HELO only: no DSN
    lanhub = SmtpSink(lanhub_port)
    # the client: relayhost is the device; it listens only so that it can start
    pf = PostfixInstance.relay(tmp_path / "client", "127.0.0.1", client_port, "127.0.0.1", smtp_port,
                               hostname="client.lan.test").start()
    dev = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port,
               more_peers=[("10.0.2.101", lanhub_port)])
    try:
        dev.cmd("peer add lanhub 10.0.2.101 port 25 via eth0")
        dev.cmd("route add lan.test lanhub")
        # queue warn is kept in the running-config only when set
        assert "queue warn" not in dev.cmd("show running-config")
        dev.cmd("queue warn 14400")
        assert "queue warn 14400" in dev.cmd("show running-config")
        assert "%" in dev.cmd("queue warn 99999999")
        r = pf.sendmail(["-N", "success,failure,delay", "-f", "sender@lan.test", "user@example.com"],
                        b"From: sender@lan.test\r\nSubject: notify me\r\n\r\nhello\r\n")
        assert r.returncode == 0, r
        assert nodsn.wait_count(1, 60) == 1, pf.log_tail() + dev.cmd("events")
        # Postfix saw DSN offered by the device, so it relays NOTIFY and sends nothing itself
        assert pf.wait_log("status=sent", 30), pf.log_tail()
        assert "delivery status notification" not in pf.log(), pf.log_tail()
        # the device's peer cannot do DSN: the device says "relayed" (RFC 3461 4.1)
        assert lanhub.wait_count(1, 30) == 1, dev.cmd("show queue") + dev.cmd("events")
        meta, raw = lanhub.messages()[0]
        assert meta["X-Mail-Args"][0].startswith("<>")
        assert meta["X-Rcpt-Args"] == ["<sender@lan.test>"]
        report = email.message_from_bytes(raw, policy=email.policy.compat32)
        _, groups = _status_groups(report)
        rcpts = groups[1:]
        assert len(rcpts) == 1
        assert rcpts[0]["Final-Recipient"] == "rfc822; user@example.com"
        assert rcpts[0]["Original-Recipient"] == "rfc822; user@example.com"   # Postfix sends ORCPT
        assert rcpts[0]["Action"] == "relayed"
        assert rcpts[0]["Status"].startswith("2.")
        assert report["Subject"] == "Successful Mail Delivery Report"
    finally:
        dev.kill()
        pf.cleanup()
        nodsn.stop()
        lanhub.stop()


def test_postfix_client_parameters_reach_dsn_smarthost(tmp_path):
    # sendmail -N through the device to a DSN-capable Postfix smarthost: the
    # parameters travel all the way (RFC 3461 5.2), and since every hop does
    # DSN nobody sends a "relayed" report
    smtp_port, smarthost_port, lanhub_port, client_port, sink_port = (free_port(), free_port(), free_port(),
                                                                      free_port(), free_port())
    sink = SmtpSink(sink_port)                # where the smarthost hands the mail on
    lanhub = SmtpSink(lanhub_port)            # the sender's domain: would receive a report
    smarthost = PostfixInstance.relay(tmp_path / "smarthost", "127.0.0.1", smarthost_port, "127.0.0.1",
                                      sink_port, hostname="postfix.peer.test").start()
    client = PostfixInstance.relay(tmp_path / "client", "127.0.0.1", client_port, "127.0.0.1", smtp_port,
                                   hostname="client.lan.test").start()
    dev = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port,
               more_peers=[("10.0.2.101", lanhub_port)])
    try:
        dev.cmd("peer add lanhub 10.0.2.101 port 25 via eth0")
        dev.cmd("route add lan.test lanhub")
        r = client.sendmail(["-N", "success,failure,delay", "-V", "ENV+id-7", "-f", "sender@lan.test",
                             "user@example.com"],
                            b"From: sender@lan.test\r\nSubject: notify all the way\r\n\r\nhello\r\n")
        assert r.returncode == 0, r
        assert sink.wait_count(1, 60) == 1, client.log_tail() + dev.cmd("events") + smarthost.log_tail()
        meta, _ = sink.messages()[0]
        assert "ENVID=ENV+2Bid-7" in meta["X-Mail-Args"][0], meta   # xtext: "+" is "+2B"
        rcpt = meta["X-Rcpt-Args"][0]
        assert rcpt.startswith("<user@example.com> "), meta
        notify = re.search(r"NOTIFY=(\S+)", rcpt)
        assert notify and set(notify.group(1).split(",")) == {"SUCCESS", "FAILURE", "DELAY"}, meta
        assert "ORCPT=rfc822;user@example.com" in rcpt, meta
        # the device relayed to a DSN peer: no report of its own; its queue is
        # empty, so none can still come
        wait_until(lambda: "0 messages" in dev.cmd("show queue"), 30, "device queue empty",
                   detail=lambda: dev.cmd("show queue"))
        assert lanhub.files() == [], [m for m, _ in lanhub.messages()]
        assert "delivery status notification" not in client.log(), client.log_tail()
    finally:
        dev.kill()
        client.cleanup()
        smarthost.cleanup()
        sink.stop()
        lanhub.stop()
