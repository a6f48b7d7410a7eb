"""STARTTLS (both directions) and SMTP AUTH on mps2-an385 in QEMU.

Peers (tlspeers.py): TlsAuthPeer (aiosmtpd: STARTTLS + AUTH PLAIN/LOGIN, can
require both), InjectPeer (sends plaintext behind its 220 to STARTTLS),
inject_starttls (a client doing the same to the device), Postfix's smtp-sink
for plain delivery, swaks and Python ssl as submission clients.  Every test
boots its own factory-fresh device; all traffic stays on 127.0.0.1.
"""
import os
import re
import subprocess
import threading
import time
import types

import pytest

from device import PROMPT, free_port
from helpers import boot, show_stats, swaks as swaks_, wait_until
from peers import SmtpSink
from tlspeers import (InjectPeer, SmtpLines, TlsAuthPeer, auth_plain, client_context, der_fingerprint, der_text,
                      inject_starttls, make_ca, make_cert, send_message, server_context, smtp_connect, starttls)

HOSTNAME = "mta.eth0.gateway.test"     # factory hostname of eth0
PEER_HOST = "mail.peer.test"           # name in the peer's certificate
ALICE_PW = "Alice-pw-4711-xyzzy"       # distinctive, so leaks are easy to find
PEER_PW = "Relay-pw-0815-plugh"
TLS_ERR_9318 = r"9318 smtpc: could not bind to peer 'smarthost' over eth0: tls -0x[0-9a-fA-F]+"


# ---------------------------------------------------------------------------
# fixtures and helpers

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """CA A signs the peer's and the device's certificates; CA B signs nothing we use."""
    d = str(tmp_path_factory.mktemp("pki"))
    ca_a = make_ca(d, "Gateway Test Root A")
    return types.SimpleNamespace(
        ca_a=ca_a,
        ca_b=make_ca(d, "Unrelated Test Root B"),
        peer=make_cert(d, ca_a, PEER_HOST),
        device=make_cert(d, ca_a, HOSTNAME),
        device_rsa=make_cert(d, ca_a, HOSTNAME, key="rsa"))


def need_tls_firmware(dev):
    out = dev.cmd("show tls")
    assert not out.strip().startswith("%"), out


def set_clock(dev):
    """mps2 has no RTC (build time + uptime): certificate dates need the real time."""
    out = dev.cmd("clock set " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    assert not out.strip().startswith("%"), out


@pytest.fixture
def dev(mps2):
    need_tls_firmware(mps2)
    set_clock(mps2)
    return mps2


def ok(dev, line, timeout=10.0):
    """Run a console command that must succeed (no '%' line)."""
    out = dev.cmd(line, timeout)
    assert not any(l.startswith("%") for l in out.splitlines()), (line, out)
    return out


def paste(dev, command, pem_files, timeout=60.0):
    """`command` (tls cert NETIF | tls ca add NAME), then the lines of the PEM
    files, then `end`; returns everything printed up to the next prompt.
    Waits for the echo of each line while the device echoes; without echo,
    paces the lines instead."""
    text = "".join(open(f).read() for f in pem_files)
    dev.send(command + "\r")
    start = dev.expect(re.escape(command) + r"\n", 10).end()
    echo = True
    for line in text.splitlines() + ["end"]:
        dev.send(line + "\r")
        if echo:
            try:
                dev.expect(re.escape(line) + r"\n", 3)
            except TimeoutError:
                echo = False
        else:
            time.sleep(0.05)
    m = dev.expect(re.escape(PROMPT), timeout)
    return dev.text[start:m.start()]


def errors(out):
    return [l for l in out.splitlines() if l.startswith("%")]


def swaks(port, extra=(), subject="tls test"):
    """swaks to the device; returns (exit status, transcript).  In the transcript
    '<~ ' marks replies received inside TLS, '<~*' error replies inside TLS."""
    return swaks_(port, subject=subject, body="over TLS", extra=extra, timeout=60)


def wait_9318_tls(dev, timeout=60):
    """Wait (bounded) for a 9318 event naming a TLS error; return the events."""
    def tls_9318():
        ev = dev.cmd("events id 9318")
        return ev if re.search(TLS_ERR_9318, ev) else ""
    return wait_until(tls_9318, timeout, "9318 naming a TLS error", interval=1.0,
                      detail=lambda: dev.cmd("events id 9318"))


def queued(dev):
    m = re.search(r"^(\d+) messages?,", dev.cmd("show queue"), re.M)
    return int(m.group(1)) if m else None


def show_tls_fingerprint(dev, netif="eth0"):
    """The `sha256 <hex>` line of the netif's block in `show tls`: a line
    starting with the netif's name, then its indented lines."""
    out = dev.cmd("show tls")
    block = re.search(r"^" + netif + r"\s[^\n]*\n((?:[ \t]+[^\n]*\n)*)", out, re.M)
    m = block and re.search(r"\bsha256 ([0-9a-f]{64})\b", block.group(1))
    assert m, out
    return m.group(1)


def tls_sessions(dev):
    """(in use, max) from `show tls` ("sessions ... N/M")."""
    out = dev.cmd("show tls")
    m = re.search(r"sessions\b[^\n]*?(\d+)\s*/\s*(\d+)", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def presented_cert(port, context=None, server_hostname=None):
    """DER certificate the device presents after STARTTLS on its SMTP port."""
    io = smtp_connect("127.0.0.1", port)
    try:
        reply, tio = starttls(io, context, server_hostname)
        assert tio is not None, reply
        tio.cmd("QUIT")
        return tio.cert_der
    finally:
        io.sock.close()


# ---------------------------------------------------------------------------
# a) inbound STARTTLS + AUTH with swaks

@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_submission_needs_tls_and_auth(dev, mech):
    sink = SmtpSink(dev.smarthost_port)
    try:
        ok(dev, "auth policy eth0 required")
        ok(dev, f"user add alice {ALICE_PW}")
        auth = ["--auth", mech, "--auth-user", "alice"]
        rc, out = swaks(dev.smtp_port, ["--tls"] + auth + ["--auth-password", ALICE_PW], subject="auth ok")
        assert rc == 0 and re.search(r"^<~  235 ", out, re.M) and "250 2.0.0" in out, out[-1500:]
        offer = re.search(r"^<~  250[- ]AUTH\b(.*)$", out, re.M)
        assert offer and {"PLAIN", "LOGIN"} <= set(offer.group(1).split()), out
        assert sink.wait_count(1, 60) == 1
        # no AUTH: MAIL refused
        rc, out = swaks(dev.smtp_port, ["--tls"], subject="no auth")
        assert re.search(r"^<~\* 530 5\.7\.0", out, re.M), out[-1500:]
        # wrong password
        rc, out = swaks(dev.smtp_port, ["--tls"] + auth + ["--auth-password", "wrong-" + ALICE_PW],
                        subject="bad pw")
        assert re.search(r"^<~\* 535 5\.7\.8", out, re.M), out[-1500:]
        # AUTH in plaintext: not offered, and refused with 538
        io = smtp_connect("127.0.0.1", dev.smtp_port)
        try:
            assert not any("AUTH" in l for l in io.ehlo), io.ehlo
            assert any("STARTTLS" in l for l in io.ehlo), io.ehlo
            r = io.cmd("AUTH PLAIN " + auth_plain("alice", ALICE_PW))
            assert r[0].startswith("538"), r
            r = io.cmd("MAIL FROM:<dev@lan.test>")
            assert r[0].startswith("530 5.7.0"), r
            io.cmd("QUIT")
        finally:
            io.sock.close()
        # only the authenticated message went out: the others were refused
        # before the device accepted anything, and the queue is empty again
        wait_until(lambda: queued(dev) == 0, 20, "queue empty", detail=lambda: dev.cmd("show queue"))
        assert show_stats(dev)["messages accepted"] == 1, dev.cmd("show stats")
        assert sink.wait_count(1, 10) == 1 and len(sink.files()) == 1
        # the password never shows; `secrets` shows a hash of it
        cfg = dev.cmd("show running-config")
        assert "auth policy eth0 required" in cfg, cfg
        assert ALICE_PW not in cfg, cfg
        sec = dev.cmd("show running-config secrets")
        assert ALICE_PW not in sec, sec
        # a `user ...` line for alice carrying a hash (a token of 16+ characters)
        hashed = [l for l in sec.splitlines() if l.startswith("user") and re.search(r"\balice\b", l)
                  and re.search(r"[A-Za-z0-9+/=$.:_-]{16,}", l.replace("alice", ""))]
        assert hashed, sec
    finally:
        sink.stop()


# ---------------------------------------------------------------------------
# b) outbound STARTTLS + AUTH to a peer that requires both

def test_delivery_to_peer_requiring_tls_and_auth(dev, pki):
    peer = TlsAuthPeer(dev.smarthost_port, pki.peer.cert, pki.peer.key, users={"relay": PEER_PW})
    try:
        ok(dev, "peer tls smarthost encrypt")
        ok(dev, f"peer auth smarthost relay {PEER_PW}")
        rc, out = swaks(dev.smtp_port, subject="to tls auth peer")
        assert "250 2.0.0" in out, out[-1500:]
        assert peer.wait_count(1, 60) == 1, (peer.auth_attempts, dev.cmd("events id 9318"))
        m = peer.messages[0]
        assert m.tls, m
        assert m.authenticated and m.auth_user == "relay", m
        assert m.mail_from == "dev@lan.test" and m.rcpt_tos == ["user@example.com"], m
        assert b"Subject: to tls auth peer" in m.content
        assert m.helo == HOSTNAME
        assert [a for a in peer.auth_attempts if not a[2]] == [], peer.auth_attempts
        wait_until(lambda: queued(dev) == 0, 20, "queue empty", detail=lambda: dev.cmd("show queue"))
        assert PEER_PW not in dev.cmd("show running-config")
    finally:
        peer.stop()


def test_peer_refuses_auth_mail_stays_queued_then_delivered(dev, pki):
    """A wrong peer password: the peer's 535 defers the message (9318 with the
    reply), nothing is lost; the right password and a flush deliver it."""
    peer = TlsAuthPeer(dev.smarthost_port, pki.peer.cert, pki.peer.key, users={"relay": PEER_PW})
    try:
        ok(dev, "peer tls smarthost encrypt")
        ok(dev, "peer auth smarthost relay not-the-password")
        rc, out = swaks(dev.smtp_port, subject="auth refused first")
        assert "250 2.0.0" in out, out[-1500:]
        wait_until(lambda: re.findall(r"9318 smtpc: could not bind to peer 'smarthost' over eth0: reply 535[^\n]*",
                                      dev.cmd("events id 9318")), 60, "9318 with the peer's 535", interval=1.0,
                   detail=lambda: dev.cmd("events"))
        assert queued(dev) == 1, dev.cmd("show queue")
        assert peer.messages == [] and any(not a[2] for a in peer.auth_attempts), peer.auth_attempts
        assert "not-the-password" not in dev.cmd("events")
        ok(dev, f"peer auth smarthost relay {PEER_PW}")
        ok(dev, "queue flush")
        assert peer.wait_count(1, 60) == 1, dev.cmd("events")
        assert peer.messages[0].auth_user == "relay" and b"Subject: auth refused first" in peer.messages[0].content
        wait_until(lambda: queued(dev) == 0, 20, "queue empty", detail=lambda: dev.cmd("show queue"))
    finally:
        peer.stop()


# ---------------------------------------------------------------------------
# c) verification against provisioned CAs

def test_verify_peer_with_provisioned_ca(dev, pki):
    peer = TlsAuthPeer(dev.smarthost_port, pki.peer.cert, pki.peer.key, require_auth=False)
    try:
        out = paste(dev, "tls ca add wrongca", [pki.ca_b.cert])
        assert errors(out) == [], out
        ok(dev, f"peer tls smarthost verify {PEER_HOST}")
        rc, out = swaks(dev.smtp_port, subject="verified")
        assert "250 2.0.0" in out, out[-1500:]
        wait_9318_tls(dev)
        assert queued(dev) == 1, dev.cmd("show queue")
        assert peer.messages == []
        out = paste(dev, "tls ca add rightca", [pki.ca_a.cert])
        assert errors(out) == [], out
        shown = dev.cmd("show tls")
        assert "wrongca" in shown and "rightca" in shown, shown
        ok(dev, "queue flush")
        assert peer.wait_count(1, 60) == 1, dev.cmd("events id 9318")
        assert peer.messages[0].tls and b"Subject: verified" in peer.messages[0].content
        wait_until(lambda: queued(dev) == 0, 20, "queue empty", detail=lambda: dev.cmd("show queue"))
        ok(dev, "tls ca del wrongca")
        assert "wrongca" not in dev.cmd("show tls")
    finally:
        peer.stop()


# ---------------------------------------------------------------------------
# d) fingerprint pinning

def test_fingerprint_pinning(dev, pki):
    peer = TlsAuthPeer(dev.smarthost_port, pki.peer.cert, pki.peer.key, require_auth=False)
    try:
        ok(dev, f"peer tls smarthost fingerprint {pki.ca_a.sha256}")   # a real fingerprint, wrong cert
        rc, out = swaks(dev.smtp_port, subject="pinned")
        assert "250 2.0.0" in out, out[-1500:]
        wait_9318_tls(dev)
        assert queued(dev) == 1, dev.cmd("show queue")
        assert peer.messages == []
        ok(dev, f"peer tls smarthost fingerprint {pki.peer.sha256}")
        ok(dev, "queue flush")
        assert peer.wait_count(1, 60) == 1, dev.cmd("events id 9318")
        assert peer.messages[0].tls and b"Subject: pinned" in peer.messages[0].content
        wait_until(lambda: queued(dev) == 0, 20, "queue empty", detail=lambda: dev.cmd("show queue"))
    finally:
        peer.stop()


# ---------------------------------------------------------------------------
# e) STARTTLS injection, both directions

def test_inbound_starttls_injection_discarded(dev):
    sink = SmtpSink(dev.smarthost_port)
    try:
        res = inject_starttls("127.0.0.1", dev.smtp_port)
        assert res.problems() == [], res
        assert any("STARTTLS" in l for l in res.ehlo), res
        # still a healthy server: a normal TLS submission works
        rc, out = swaks(dev.smtp_port, ["--tls"], subject="after injection")
        assert "250 2.0.0" in out, out[-1500:]
        assert sink.wait_count(1, 60) == 1
    finally:
        sink.stop()


def test_outbound_starttls_injection_discarded(dev, pki):
    peer = InjectPeer(dev.smarthost_port, pki.peer.cert, pki.peer.key)
    try:
        ok(dev, "peer tls smarthost encrypt")
        rc, out = swaks(dev.smtp_port, subject="injected peer")
        assert "250 2.0.0" in out, out[-1500:]
        assert peer.wait_count(1, 60) == 1, (peer.sessions, dev.cmd("events id 9318"))
        sess = [s for s in peer.tls_sessions() if s.post_tls]
        assert sess, peer.sessions
        s = sess[0]
        assert [l.split(" ", 1)[0].upper() for l in s.pre_tls] == ["EHLO", "STARTTLS"], s
        assert s.pipelined_after_starttls == b"", s
        verbs = s.post_tls_verbs()
        assert verbs[:4] == ["EHLO", "MAIL", "RCPT", "DATA"] and verbs[4:] in ([], ["QUIT"]), s
        assert s.desync == [] and s.errors == [], s
        assert b"Subject: injected peer" in peer.messages[0][2]
    finally:
        peer.stop()


# ---------------------------------------------------------------------------
# f) TLS session limit (TLS_MAX_SESSIONS = 2 on mps2)

def test_inbound_tls_leaves_a_session_for_delivery(dev, pki):
    """mps2 has 2 TLS sessions; inbound STARTTLS may take only one of them
    (TLS_RESERVE_OUTBOUND): a second client gets a fast 454 4.7.0, and the
    device's own `verify` delivery gets a session while the first client
    still holds its own (issue 13: neither direction starves the other)."""
    peer = TlsAuthPeer(dev.smarthost_port, pki.peer.cert, pki.peer.key, require_auth=False)
    ready, go = threading.Event(), threading.Event()
    result = [None]

    def client():
        try:
            io = smtp_connect("127.0.0.1", dev.smtp_port, helo="c0.lan.test")
            try:
                reply, tio = starttls(io, helo="c0.lan.test")
                if tio is None:
                    result[0] = ("starttls", reply)
                    return
                ready.set()
                if not go.wait(90):
                    result[0] = ("timeout", None)
                    return
                replies = send_message(tio, "dev@lan.test", ["user@example.com"],
                                       b"Subject: held inbound\r\n\r\nheld open in TLS\r\n")
                tio.cmd("QUIT")
                result[0] = ("sent", replies)
            finally:
                io.sock.close()
        except Exception as e:          # reported below; the thread must not die silently
            result[0] = ("error", repr(e))
        finally:
            ready.set()

    t = threading.Thread(target=client, daemon=True)
    try:
        out = paste(dev, "tls ca add rightca", [pki.ca_a.cert])
        assert errors(out) == [], out
        ok(dev, f"peer tls smarthost verify {PEER_HOST}")
        t.start()
        assert ready.wait(90)
        assert result == [None], result       # inside TLS, holding its session
        assert tls_sessions(dev) == (1, 2)
        io = smtp_connect("127.0.0.1", dev.smtp_port, helo="c1.lan.test")
        try:
            t0 = time.monotonic()
            reply, tio = starttls(io, helo="c1.lan.test")
            assert tio is None and reply[0].startswith("454 4.7.0"), reply
            assert time.monotonic() - t0 < 5, "454 was not fast"
            # delivery to the peer that requires verified TLS still finds a session
            replies = send_message(io, "dev@lan.test", ["user@example.com"],
                                   b"Subject: delivered meanwhile\r\n\r\nplain inbound, TLS outbound\r\n")
            assert replies[-1][0].startswith("250"), replies
            assert io.cmd("QUIT")[0].startswith("221")
        finally:
            io.sock.close()
        assert peer.wait_count(1, 60) == 1, dev.cmd("events id 9318")
        assert peer.messages[0].tls and b"Subject: delivered meanwhile" in peer.messages[0].content
        go.set()
        t.join(90)
        assert result[0] and result[0][0] == "sent", result
        assert result[0][1][-1][0].startswith("250"), result
        assert peer.wait_count(2, 60) == 2, dev.cmd("events id 9318")
        wait_until(lambda: tls_sessions(dev)[0] == 0, 20, "TLS sessions free", detail=lambda: dev.cmd("show tls"))
        assert len(presented_cert(dev.smtp_port)) > 100
    finally:
        go.set()
        t.join(10)
        peer.stop()


# ---------------------------------------------------------------------------
# g) the device's own certificate: fingerprint, generate, paste, survives power-cycle

def test_device_certificate_fingerprint_paste_and_power_cycle(pki, tmp_path):
    smtp_port, smarthost_port = free_port(), free_port()
    d = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port)
    try:
        need_tls_firmware(d)
        set_clock(d)
        # factory certificate: what `show tls` says is what the handshake presents
        fp0 = show_tls_fingerprint(d)
        assert der_fingerprint(presented_cert(smtp_port)) == fp0
        # a new self-signed one for the interface's hostname
        ok(d, "tls cert eth0 generate", timeout=60)
        fp1 = show_tls_fingerprint(d)
        der = presented_cert(smtp_port)
        assert fp1 != fp0 and der_fingerprint(der) == fp1
        assert HOSTNAME in der_text(der), der_text(der)
        # ours, signed by CA A: presented, and it verifies against CA A for the hostname
        out = paste(d, "tls cert eth0", [pki.device.cert, pki.device.key])
        assert errors(out) == [], out
        assert show_tls_fingerprint(d) == pki.device.sha256
        der = presented_cert(smtp_port, client_context(pki.ca_a.cert), HOSTNAME)
        assert der_fingerprint(der) == pki.device.sha256
        assert "saved" in ok(d, "save")
        d.send("poweroff\r")
        assert d.wait_exit(10) == 0
    finally:
        d.kill()
    d = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port)        # same flash.img
    try:
        set_clock(d)
        assert show_tls_fingerprint(d) == pki.device.sha256
        der = presented_cert(smtp_port, client_context(pki.ca_a.cert), HOSTNAME)
        assert der_fingerprint(der) == pki.device.sha256
        d.send("poweroff\r")
        assert d.wait_exit(10) == 0
    finally:
        d.kill()


def test_provisioning_tool_pastes_certificate_and_ca(pki, tmp_path):
    """tests/tools/provision.py follows the `pem> ` prompt: a site file with a
    certificate, its key and a CA certificate in PEM provisions a fresh device."""
    smtp_port, smarthost_port = free_port(), free_port()
    site = str(tmp_path / "site.cfg")
    with open(site, "w") as f:
        f.write("# TLS material for eth0\n")
        f.write(f"clock set {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        f.write("tls cert eth0\n" + open(pki.device.cert).read() + open(pki.device.key).read() + "end\n")
        f.write("tls ca add corp-root\n" + open(pki.ca_a.cert).read() + "end\n")
        f.write(f"peer tls smarthost verify {PEER_HOST}\n")
    sock = str(tmp_path / "console.sock")
    d = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port, console_socket=sock)
    try:
        d.release_console()  # the tool takes the console
        r = subprocess.run(["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "..", "tools", "provision.py"),
                            "--socket", sock, "--timeout", "60", site], capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr.decode() + r.stdout.decode()
        assert "commands applied and saved" in r.stdout.decode()
    finally:
        d.kill()
    d = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port)   # the saved state, after a power cycle
    try:
        set_clock(d)
        assert show_tls_fingerprint(d) == pki.device.sha256
        assert "corp-root" in d.cmd("show tls")
        assert f"peer tls smarthost verify {PEER_HOST}" in d.cmd("show running-config")
        # factory-reset takes the keys and CA certificates too
        assert "TLS keys" in ok(d, "factory-reset confirm")
        d.send("poweroff\r")
        assert d.wait_exit(10) == 0
    finally:
        d.kill()
    d = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port)
    try:
        fp = show_tls_fingerprint(d)
        assert fp != pki.device.sha256
        assert "no CA certificates" in d.cmd("show tls")
        assert "(self-signed)" in d.cmd("show tls")
        d.send("poweroff\r")
        assert d.wait_exit(10) == 0
    finally:
        d.kill()


def test_entropy_seed_in_flash_is_refreshed_at_every_boot(tmp_path):
    """The `tls` partition (flash.img 1008 KiB..1016 KiB) holds the entropy
    seed: it is rewritten at every boot, so its contents differ after each
    power cycle while the certificate stays the same."""
    smtp_port, smarthost_port = free_port(), free_port()
    images, fps = [], []
    for _ in range(3):
        d = boot(tmp_path, smtp_port=smtp_port, smarthost_port=smarthost_port)
        try:
            fps.append(show_tls_fingerprint(d))
            d.send("poweroff\r")
            assert d.wait_exit(10) == 0
        finally:
            d.kill()
        with open(str(tmp_path / "flash.img"), "rb") as f:
            f.seek(1008 * 1024)
            images.append(f.read(8 * 1024))
    assert fps[0] == fps[1] == fps[2]
    assert images[0] != images[1] and images[1] != images[2] and images[0] != images[2]


def test_rsa_certificate_pasted_is_presented(dev, pki):
    out = paste(dev, "tls cert eth0", [pki.device_rsa.cert, pki.device_rsa.key])
    assert errors(out) == [], out
    assert show_tls_fingerprint(dev) == pki.device_rsa.sha256
    der = presented_cert(dev.smtp_port, client_context(pki.ca_a.cert), HOSTNAME)
    assert der_fingerprint(der) == pki.device_rsa.sha256


# ---------------------------------------------------------------------------
# h) inbound TLS policy

def test_tls_policy_required_and_off(dev):
    ok(dev, "tls policy eth0 required")
    assert "tls policy eth0 required" in dev.cmd("show running-config")
    io = smtp_connect("127.0.0.1", dev.smtp_port)
    try:
        assert any("STARTTLS" in l for l in io.ehlo), io.ehlo
        r = io.cmd("MAIL FROM:<dev@lan.test>")
        assert r[0].startswith("530 5.7.0"), r
        reply, tio = starttls(io)
        assert tio is not None, reply
        r = tio.cmd("MAIL FROM:<dev@lan.test>")
        assert r[0].startswith("250"), r
        tio.cmd("QUIT")
    finally:
        io.sock.close()
    ok(dev, "tls policy eth0 off")
    io = smtp_connect("127.0.0.1", dev.smtp_port)
    try:
        assert not any("STARTTLS" in l for l in io.ehlo), io.ehlo
        assert io.cmd("MAIL FROM:<dev@lan.test>")[0].startswith("250")
        io.cmd("QUIT")
    finally:
        io.sock.close()


# ---------------------------------------------------------------------------
# bad input: one '%' line each, nothing changes

BAD = [
    "tls policy eth9 offer",
    "tls policy eth0 sometimes",
    "auth policy eth9 off",
    "auth policy eth0 maybe",
    "user del nosuch",
    "tls ca del nosuch",
    "tls cert eth9 generate",
    "peer tls nosuch encrypt",
    "peer tls smarthost sometimes",
    "peer tls smarthost fingerprint 1234",
    "peer tls smarthost fingerprint " + "g" * 64,
    "peer tls smarthost verify",
    "peer auth nosuch relay pw",
    "peer auth smarthost relay",
]


def test_bad_tls_commands_one_error_line_each(dev, tmp_path):
    before = dev.cmd("show running-config secrets")
    for line in BAD:
        out = dev.cmd(line)
        lines = [l for l in out.splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith("%"), (line, out)
    junk = str(tmp_path / "junk.pem")
    with open(junk, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    out = paste(dev, "tls ca add junk", [junk])
    assert len(errors(out)) == 1, out
    assert dev.cmd("show running-config secrets") == before
    assert "junk" not in dev.cmd("show tls")


# ---------------------------------------------------------------------------
# self-checks of the peers with real clients on loopback (no device needed)

def test_selfcheck_tlsauthpeer_with_swaks(pki):
    port = free_port()
    peer = TlsAuthPeer(port, pki.peer.cert, pki.peer.key)
    try:
        def run(*extra):
            return swaks_(port, to="a@example.com", frm="s@lan.test", helo=None, timeout=20, extra=extra)
        cred = ["--auth-user", "relay", "--auth-password", "secret"]
        for mech in ("PLAIN", "LOGIN"):
            rc, out = run("--tls", "--auth", mech, *cred)
            assert rc == 0 and "<~  235 " in out, out
        rc, out = run("--tls", "--tls-verify", "--tls-ca-path", pki.ca_a.cert, "--tls-sni", PEER_HOST,
                      "--auth", "PLAIN", *cred)
        assert rc == 0, out
        rc, out = run()
        assert rc != 0 and re.search(r"^<\*\* 530 ", out, re.M), out
        rc, out = run("--tls")
        assert rc != 0 and re.search(r"^<~\* 530 5\.7\.0", out, re.M), out
        rc, out = run("--tls", "--auth", "PLAIN", "--auth-user", "relay", "--auth-password", "nope")
        assert rc != 0 and re.search(r"^<~\* 535 5\.7\.8", out, re.M), out
        assert peer.wait_count(3, 10) == 3
        assert all(m.tls and m.auth_user == "relay" for m in peer.messages), peer.messages
        assert peer.auth_attempts == [("PLAIN", "relay", True), ("LOGIN", "relay", True),
                                      ("PLAIN", "relay", True), ("PLAIN", "relay", False)]
    finally:
        peer.stop()


def test_selfcheck_injectpeer(pki):
    import smtplib
    import ssl
    port = free_port()
    peer = InjectPeer(port, pki.peer.cert, pki.peer.key)
    try:
        # smtplib drops its plaintext buffer at STARTTLS: a clean dialogue
        ctx = client_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2      # as the device speaks
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("smtplib.lan.test")
            assert s.starttls(context=ctx)[0] == 220
            s.ehlo("smtplib.lan.test")
            s.sendmail("a@lan.test", ["u@example.com"], "Subject: clean\r\n\r\nx\r\n")
        assert peer.wait_count(1, 10) == 1
        s0 = peer.sessions[0]
        assert s0.post_tls_verbs() == ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"] and not s0.desync, s0
        # a client that keeps the injected line and reads it as its EHLO reply is caught
        io = smtp_connect("127.0.0.1", port, helo="naive")
        io.cmd("STARTTLS")
        left = io.buf
        assert left == b"250 injected\r\n"
        tio = SmtpLines(client_context().wrap_socket(io.sock))
        tio.buf = left
        assert tio.cmd("EHLO naive") == ["250 injected"]
        tio.cmd("MAIL FROM:<c@lan.test>")       # sent before the real EHLO reply was read
        tio.cmd("QUIT")
        tio.sock.close()
        wait_until(lambda: len(peer.sessions) == 2 and peer.sessions[1].desync, 10,
                   "the naive client's desync seen by the peer", detail=lambda: peer.sessions)
    finally:
        peer.stop()


def test_selfcheck_inject_starttls(pki):
    import socket
    # aiosmtpd (Debian's 1.4.3 with the CVE-2024-34083 fix) discards the injected MAIL
    port = free_port()
    peer = TlsAuthPeer(port, pki.peer.cert, pki.peer.key, require_auth=False)
    try:
        res = inject_starttls("127.0.0.1", port)
        assert res.problems() == [], res
        assert der_fingerprint(res.cert_der) == pki.peer.sha256
    finally:
        peer.stop()
    # a server that keeps the bytes queued behind STARTTLS is caught
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(30)

    def vulnerable():
        c, _ = ls.accept()
        io = SmtpLines(c)
        io.send(b"220 toy\r\n")
        in_mail = False
        for _ in range(20):
            line = io.readline(10).strip().upper()
            if line.startswith(b"EHLO"):
                io.send(b"250-toy\r\n250 STARTTLS\r\n")
            elif line == b"STARTTLS":
                io.send(b"220 go\r\n")
                t = server_context(pki.peer.cert, pki.peer.key).wrap_socket(c, server_side=True)
                io.sock = t                     # the bug: io.buf survives the switch
            elif line.startswith(b"MAIL"):
                io.send(b"503 5.5.1 nested MAIL\r\n" if in_mail else b"250 2.1.0 ok\r\n")
                in_mail = True
            elif line == b"QUIT":
                io.send(b"221 bye\r\n")
                return

    th = threading.Thread(target=vulnerable, daemon=True)
    th.start()
    try:
        res = inject_starttls("127.0.0.1", ls.getsockname()[1])
        assert res.problems(), res        # the honoured MAIL shows as 503 or an extra reply
    finally:
        th.join(20)
        ls.close()
