"""Multihomed delivery on mps2-an385 (issue 4): eth0 on QEMU user networking,
sl0 = SLIP on UART1 bridged to a TUN device inside a private network namespace.
Each side has its own smtp-sink, reachable only through that network."""
import os
import re
import subprocess

import pytest

from device import ROOT
from helpers import boot, swaks, wait_until
from netns import Netns, can_use_netns
from peers import SmtpSink

pytestmark = pytest.mark.skipif(not can_use_netns(), reason="needs root for a network namespace and TUN")

WAN_PEER, SL0_ADDR = "172.31.0.1", "172.31.0.2"
BRIDGE = os.path.join(ROOT, "tests", "tools", "slip_tun.py")


@pytest.fixture
def rig(tmp_path):
    ns = Netns(f"mtaw{os.getpid()}")
    sock = str(tmp_path / "sl0.sock")
    pcap = str(tmp_path / "eth0.pcap")
    dev = bridge = None
    lan_sink = wan_sink = None
    try:
        # QEMU listens on sl0's socket from start-up (server=on,wait=off);
        # the bridge connects once the device is at its prompt
        dev = boot(tmp_path, timeout=10, sl0_socket=sock, eth0_pcap=pcap)
        bridge = subprocess.Popen(ns.argv("/usr/bin/python3", BRIDGE, "--socket", sock, "--tun", "tun0",
                                          "--addr", WAN_PEER, "--peer", SL0_ADDR),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        assert bridge.stdout.readline().startswith(b"slip_tun: up")
        lan_sink = SmtpSink(dev.smarthost_port)
        wan_sink = SmtpSink(25, host=WAN_PEER, netns=ns.name)
        yield dev, lan_sink, wan_sink, pcap, ns
    finally:
        if dev:
            dev.kill()
        for s in (lan_sink, wan_sink):
            if s:
                s.stop()
        if bridge and bridge.poll() is None:
            os.killpg(bridge.pid, 9)
            bridge.wait(5)
        ns.delete()


def send(port, to, subject):
    return swaks(port, to=to, helo=None, subject=subject, body="multihomed")[1]


def wait_9318(dev, pattern, timeout):
    """Wait (bounded) for a 9318 event matching pattern; return the events."""
    def found():
        ev = dev.cmd("events id 9318")
        return ev if re.search(pattern, ev) else None
    return wait_until(found, timeout, f"9318 /{pattern}/", interval=1.0, detail=lambda: dev.cmd("events"))


def syns_to(pcap, dst):
    r = subprocess.run(["tshark", "-r", pcap, "-Y", f"ip.dst=={dst} && tcp.flags.syn==1 && tcp.flags.ack==0",
                        "-T", "fields", "-e", "ip.src"], capture_output=True, timeout=60)
    return [l for l in r.stdout.decode().splitlines() if l.strip()]


def test_route_follows_peer_netif_and_identity(rig):
    dev, lan_sink, wan_sink, pcap, ns = rig
    assert dev.cmd(f"peer add wanpeer {WAN_PEER} port 25 via sl0 enforce").strip() == ""
    assert dev.cmd("route add *.wan.test wanpeer").strip() == ""
    out = dev.cmd("route get user@mx.wan.test")
    assert "wanpeer" in out and "netif:     sl0" in out and f"source:    {SL0_ADDR}" in out, out
    assert f"next hop:  {WAN_PEER}" in out and "ehlo:      mta.sl0.gateway.test" in out, out
    assert "wildcard '*.wan.test'" in out, out

    assert "250 2.0.0" in send(dev.smtp_port, "user@mx.wan.test", "to wan")
    assert "250 2.0.0" in send(dev.smtp_port, "user@example.com", "to lan")
    assert wan_sink.wait_count(1, 60) == 1, dev.cmd("show queue") + dev.cmd("events")
    assert lan_sink.wait_count(1, 30) == 1
    meta, text = wan_sink.messages()[0]
    assert meta["X-Helo-Args"] == ["mta.sl0.gateway.test"]
    assert meta["X-Client-Addr"] == [SL0_ADDR]
    assert b"Subject: to wan" in text
    meta, text = lan_sink.messages()[0]
    assert meta["X-Helo-Args"] == ["mta.eth0.gateway.test"]
    assert b"Subject: to lan" in text
    # eth0 is the first and the default netif, yet no SYN to the WAN peer left through it
    dev.send("poweroff\r")
    dev.wait_exit(10)
    assert syns_to(pcap, WAN_PEER) == []
    assert syns_to(pcap, "10.0.2.100") != []  # the capture did see eth0's own deliveries


def test_wrong_binding_defers_with_9318_naming_the_netif(rig):
    dev, lan_sink, wan_sink, pcap, ns = rig
    # deliberately bound to the wrong netif: the WAN peer is not reachable over eth0
    dev.cmd(f"peer add wanpeer {WAN_PEER} port 25 via eth0 enforce")
    dev.cmd("route add *.wan.test wanpeer")
    out = dev.cmd("route get user@mx.wan.test")
    assert "netif:     eth0" in out and "source:    10.0.2.15" in out and "next hop:  10.0.2.2" in out, out
    assert "250 2.0.0" in send(dev.smtp_port, "user@mx.wan.test", "wrong way")
    ev = wait_9318(dev, r"9318 smtpc: could not bind to peer 'wanpeer' over eth0: err -\d+", 60)
    assert not re.search(r"9318 .* over sl0", ev), ev
    q = dev.cmd("show queue")
    assert "user@mx.wan.test" in q and "deferred" in q, q
    assert wan_sink.files() == []
    # fix the binding: the queued message goes out over sl0
    dev.cmd(f"peer add wanpeer {WAN_PEER} port 25 via sl0 enforce")
    dev.cmd("queue flush")
    assert wan_sink.wait_count(1, 60) == 1
    dev.send("poweroff\r")
    dev.wait_exit(10)
    assert syns_to(pcap, WAN_PEER) != []  # the wrong binding did send its SYNs out of eth0


def test_enforced_netif_down_defers_and_resumes(rig):
    dev, lan_sink, wan_sink, pcap, ns = rig
    dev.cmd(f"peer add wanpeer {WAN_PEER} port 25 via sl0 enforce")
    dev.cmd("route add *.wan.test wanpeer")
    dev.cmd("interface sl0 down")
    assert "250 2.0.0" in send(dev.smtp_port, "user@mx.wan.test", "while down")
    wait_9318(dev, r"9318 smtpc: could not bind to peer 'wanpeer' over sl0", 30)
    # the decision names the cause, and nothing is routed elsewhere meanwhile
    out = dev.cmd("route get user@mx.wan.test")
    assert re.search(r"^decision:  deferred: netif sl0 down \(peer 'wanpeer' ENFORCE\)$", out, re.M), out
    assert re.search(r"^  1\. wanpeer@sl0 \(enforce\) unusable: netif sl0 down$", out, re.M), out
    assert not re.search(r"^netif:", out, re.M), out
    dev.cmd("interface sl0 up")
    dev.cmd("queue flush")
    assert wan_sink.wait_count(1, 60) == 1
    assert lan_sink.files() == []  # never sent anywhere else


def test_failover_to_the_other_netif_when_sl0_is_down(rig):
    dev, lan_sink, wan_sink, pcap, ns = rig
    # the WAN peer prefers sl0 and fails over to the smarthost over eth0
    dev.cmd(f"peer add wanpeer {WAN_PEER} port 25 via sl0 failover smarthost@eth0")
    dev.cmd("route add *.wan.test wanpeer")
    dev.cmd("interface sl0 down")
    out = dev.cmd("route get user@mx.wan.test")
    assert "peer:      smarthost" in out and "netif:     eth0" in out, out
    assert re.search(r"1\. wanpeer@sl0 unusable: .*down", out), out
    assert "250 2.0.0" in send(dev.smtp_port, "user@mx.wan.test", "failed over")
    assert lan_sink.wait_count(1, 30) == 1
    meta, _ = lan_sink.messages()[0]
    assert meta["X-Helo-Args"] == ["mta.eth0.gateway.test"]
    assert wan_sink.files() == []
