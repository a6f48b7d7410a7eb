"""Relay on the host board: TAP netif inside a private network namespace,
smtp-source and swaks as clients, smtp-sink as the peer (issue 3 acceptance)."""
import os
import re
import subprocess

import pytest

from device import ROOT
from helpers import boot, swaks, wait_until
from netns import Netns, can_use_netns
from peers import SmtpSink

pytestmark = pytest.mark.skipif(not can_use_netns(), reason="needs root and /dev/net/tun for a network namespace")

HOST_IMAGE = os.path.join(ROOT, "build", "host", "mta-host")
DEV_IP, PEER_IP, SINK_PORT = "192.0.2.2", "192.0.2.1", 2526


@pytest.fixture
def lan():
    ns = Netns(f"mtat{os.getpid()}")
    try:
        ns.add_tap("tap0", f"{PEER_IP}/24")
        yield ns
    finally:
        ns.delete()


@pytest.fixture
def host_dev(lan, tmp_path):
    argv = lan.argv(HOST_IMAGE, "--netif", f"eth0=tap0,{DEV_IP}/24,{PEER_IP},mta.lan.test",
                    "--exec", f"peer add sink {PEER_IP} port {SINK_PORT} via eth0",
                    "--exec", "route add * sink")
    dev = boot(tmp_path, argv, name="host", timeout=10)
    try:
        # the listener opens once the TAP link is seen up
        wait_until(lambda: "listening" in (out := dev.cmd("show listeners")) and "NOT" not in out, 10,
                   "eth0 listening", detail=lambda: dev.cmd("show listeners"))
        yield dev
    finally:
        dev.kill()


@pytest.fixture
def sink(lan):
    s = SmtpSink(SINK_PORT, host=PEER_IP, netns=lan.name, backlog=100)
    yield s
    s.stop()


def test_swaks_relay_on_host_board(lan, host_dev, sink):
    rc, out = swaks(f"{DEV_IP}:25", frm="a@lan.test", to="u@example.com", helo=None, body="hello from the LAN",
                    netns=lan)
    assert "250 2.0.0" in out, out
    assert sink.wait_count(1, 30) == 1
    meta, text = sink.messages()[0]
    assert meta["X-Helo-Args"] == ["mta.lan.test"]
    assert b"by mta.lan.test (eth0 192.0.2.2)" in text


def test_smtp_source_1000_messages_20_sessions(lan, host_dev, sink):
    n = 1000
    r = subprocess.run(lan.argv("smtp-source", "-c", "-s", "20", "-m", str(n), "-l", "2048",
                                "-f", "load@lan.test", "-t", "sink@example.com", f"{DEV_IP}:25"),
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    got = sink.wait_count(n, 120)
    # smtp-source numbers nothing, so count distinct queue IDs in our Received: headers
    ids = []
    for meta, text in sink.messages():
        m = re.search(rb"by mta\.lan\.test \(eth0 192\.0\.2\.2\) with E?SMTP id (\w+)", text)
        assert m, text[:400]
        ids.append(m.group(1))
    lost = n - len(set(ids))
    dups = len(ids) - len(set(ids))
    print(f"host board relay: sent {n}, at peer {got}, lost {lost}, duplicated {dups}")
    assert got == n and lost == 0 and dups == 0
    out = host_dev.cmd("show stats")
    assert re.search(r"messages accepted 1000\b", out), out
    assert re.search(r"delivered 1000\b", out), out
