"""Real Postfix on both sides of mps2-an385 (issue 13).

A private Postfix is the LAN client: its relayhost is the device.  Another
private Postfix is the device's smarthost and delivers into a Maildir the
test reads.  Both run on loopback in the root namespace; the device reaches
the smarthost through QEMU's guestfwd (10.0.2.100:25).
"""
import re
import smtplib

import pytest

from device import free_port
from helpers import boot, wait_until
from postfix import PostfixInstance, strip_trace

N_MSGS = 200
# A 4xx from the device (421 busy, 452 storage) defers a message; Postfix's
# defaults would retry it after 5 min or more.  Seconds keep the test short
# and still show that every deferral is recovered.  The client's reply
# timeouts are 20 s instead of 5-10 min, so that a device that leaves a
# client without an answer fails the test instead of stalling it; the reply
# to the final dot gets 120 s (RFC 5321 4.5.3.2.6 asks for 10 min: the
# commit may wait for the flash store to reclaim space).
FAST_RETRY = ("queue_run_delay = 2s\nminimal_backoff_time = 2s\nmaximal_backoff_time = 4s\n"
              "smtp_connect_timeout = 10s\nsmtp_helo_timeout = 20s\nsmtp_mail_timeout = 20s\nsmtp_rcpt_timeout = 20s\nsmtp_data_init_timeout = 20s\nsmtp_data_xfer_timeout = 20s\nsmtp_data_done_timeout = 120s\n")


@pytest.fixture
def chain(tmp_path):
    """client Postfix -> device (mps2-an385) -> smarthost Postfix -> Maildir."""
    smtp_port, smarthost_port, client_port = free_port(), free_port(), free_port()
    smarthost = PostfixInstance.mailbox(tmp_path / "smarthost", "127.0.0.1", smarthost_port, "dest.test")
    client = PostfixInstance.relay(tmp_path / "client", "127.0.0.1", client_port, "127.0.0.1", smtp_port,
                                   extra_main=FAST_RETRY)
    dev = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port)
    # the device's own retries of a deferral: seconds, as the client's
    dev.cmd("queue retry 2 4 86400")
    try:
        smarthost.start()
        client.start()
        yield client, dev, smarthost
    finally:
        client.stop()
        dev.kill()
        smarthost.stop()


def make_message(i, limit):
    """Message i of a mix: 8-bit text, 998-octet lines with and without a
    leading dot (999 octets on the wire after stuffing: RFC 5321 4.5.3.1.6
    does not count the dot), lines of dots, and sizes up to near the limit."""
    hdr = (f"From: <dev{i}@lan.test>\r\nTo: <user{i}@dest.test>\r\nSubject: chain {i:03d}\r\n"
           f"Date: Thu, 03 Dec 2026 12:00:00 +0000\r\nMessage-ID: <{i}.chain@lan.test>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n").encode()
    kind = i % 5
    if kind == 0:
        body = "Grüße aus dem Gerät, ça marche\r\n".encode() * 3
    elif kind == 1:
        body = b"." + b"d" * 997 + b"\r\n" + b"x" * 998 + b"\r\n"
    elif kind == 2:
        body = b"." * 998 + b"\r\n.\r\n..\r\nend\r\n"
    elif kind == 3:
        # near the device's message-size limit, 998-octet lines
        line = b"." + b"s" * 997 + b"\r\n"
        n = (limit - len(hdr) - 2000) // len(line)
        body = line * n
    else:
        body = b"plain body %d\r\n" % i
    return hdr + body


def deferrals(client):
    """The client's deferrals by reason, for a failure message."""
    kinds = {}
    for d in re.findall(r"status=deferred \(([^)]*)", client.log_text()):
        k = re.sub(r"\d+\.\d+\.\d+\.\d+\[[^]]*\]:?\d*", "", d)[:70]
        kinds[k] = kinds.get(k, 0) + 1
    return kinds


def test_postfix_chain_200_byte_identical(chain):
    client, dev, smarthost = chain
    limit = int(re.search(r"message-size (\d+)", dev.cmd("show limits")).group(1))
    sent = {}
    with smtplib.SMTP("127.0.0.1", client.port, timeout=60) as s:
        s.ehlo("app.lan.test")
        for i in range(N_MSGS):
            msg = make_message(i, limit)
            sent[f"chain {i:03d}"] = msg
            s.sendmail(f"dev{i}@lan.test", [f"user{i}@dest.test"], msg, mail_options=["BODY=8BITMIME"])
    wait_until(lambda: len(smarthost.maildir_messages()) >= N_MSGS, 240, f"{N_MSGS} messages delivered",
               detail=lambda: f"{len(smarthost.maildir_messages())} delivered; client queue "
                              f"{client.queue_count()}; client deferrals {deferrals(client)}\n"
                              f"{dev.cmd('show queue')}{dev.cmd('events last 20')}{client.log_tail(1500)}")
    got = {}
    for m in smarthost.maildir_messages():
        subj = re.search(rb"^Subject: (chain \d+)$", m, re.M).group(1).decode()
        assert subj not in got, f"{subj} delivered twice"
        got[subj] = m
    assert sorted(got) == sorted(sent)
    for subj, msg in sent.items():
        # the Maildir copy has LF line ends and the path's trace fields on top
        assert strip_trace(got[subj]) == msg.replace(b"\r\n", b"\n"), subj
    # nothing bounced or was rejected anywhere on the way
    assert client.log_count("status=bounced") == 0
    assert client.log_count("status=sent") == N_MSGS, deferrals(client)
    # Every deferral should be an answer (421, 452) or an immediate reset,
    # never silence.  Not asserted here yet: about one run in four a single
    # connection still waits out the client's 20 s greeting timeout (issue
    # 13, open; the flood tests in test_load_mps2.py hold the device to an
    # answer for every connect over TAP).  All 200 still arrive, above.
    assert "5.6.0" not in client.log_text()
