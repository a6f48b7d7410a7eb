"""Multihomed delivery on the host board (issue 4): two TAP netifs, each moved
into its own network namespace with its own smtp-sink; a third netif without
an address shows the listener-failure path (9321 for it, no 9266)."""
import os
import re
import subprocess

import pytest

from device import ROOT
from helpers import boot, swaks as swaks_, wait_until
from netns import Netns, can_use_netns, sh
from peers import SmtpSink

pytestmark = pytest.mark.skipif(not can_use_netns(), reason="needs root and /dev/net/tun")

HOST_IMAGE = os.path.join(ROOT, "build", "host", "mta-host")
LAN_DEV, LAN_PEER = "192.0.2.2", "192.0.2.1"
WAN_DEV, WAN_PEER = "198.51.100.2", "198.51.100.1"


@pytest.fixture
def rig(tmp_path):
    pid = os.getpid()
    dev_ns, lan, wan = Netns(f"mthd{pid}"), Netns(f"mthl{pid}"), Netns(f"mthw{pid}")
    for tap in ("tap0", "tap1", "tap2"):
        sh("ip", "-n", dev_ns.name, "tuntap", "add", "dev", tap, "mode", "tap")
    argv = dev_ns.argv(HOST_IMAGE,
                       "--netif", f"eth0=tap0,{LAN_DEV}/24,{LAN_PEER},mta.lan.test",
                       "--netif", f"wan0=tap1,{WAN_DEV}/24,{WAN_PEER},mta.wan.test",
                       "--netif", "spare=tap2",  # no address: its listener cannot open
                       "--exec", f"peer add lanpeer {LAN_PEER} port 25 via eth0",
                       "--exec", f"peer add wanpeer {WAN_PEER} port 25 via wan0 enforce",
                       "--exec", "route add * lanpeer",
                       "--exec", "route add *.wan.test wanpeer")
    dev = None
    sinks = []
    try:
        dev = boot(tmp_path, argv, name="host", timeout=10)
        # The device holds the TAPs open; move each one into its own network.
        for tap, ns, addr in (("tap0", lan, LAN_PEER), ("tap1", wan, WAN_PEER)):
            sh("ip", "-n", dev_ns.name, "link", "set", tap, "netns", ns.name)
            sh("ip", "-n", ns.name, "addr", "add", f"{addr}/24", "dev", tap)
            sh("ip", "-n", ns.name, "link", "set", tap, "up")
        sinks = [SmtpSink(25, host=LAN_PEER, netns=lan.name), SmtpSink(25, host=WAN_PEER, netns=wan.name)]
        wait_until(lambda: re.search(r"eth0 .* listening", out := dev.cmd("show listeners")) and
                   re.search(r"wan0 .* listening", out), 15, "eth0 and wan0 listening",
                   detail=lambda: dev.cmd("show listeners"))
        dev.ns = dev_ns
        yield dev, lan, wan, sinks[0], sinks[1]
    finally:
        if dev:
            dev.kill()
        for s in sinks:
            s.stop()
        for ns in (dev_ns, lan, wan):
            ns.delete()


def swaks(ns, server, to, subject):
    """swaks from inside network ns to the device's address server; the transcript."""
    return swaks_(f"{server}:25", frm="a@lan.test", to=to, helo=None, subject=subject, body="x", timeout=20,
                  netns=ns)[1]


def capture(ns, tap, pcap, filt, err=subprocess.DEVNULL):
    """tcpdump on tap inside ns into pcap; returns once it is capturing
    (it says "listening on" first), so no packet is missed."""
    errf = str(pcap) + ".err"
    cap = subprocess.Popen(ns.argv("tcpdump", "--immediate-mode", "-Z", "root", "-i", tap, "-w", str(pcap), "-U",
                                   filt), stdout=subprocess.DEVNULL, stderr=open(errf, "w"),
                           start_new_session=True)
    wait_until(lambda: "listening on" in open(errf).read() or cap.poll() is not None, 10, f"tcpdump on {tap}")
    assert cap.poll() is None, open(errf).read()
    cap.errfile = errf
    return cap


def stop_capture(cap):
    os.killpg(cap.pid, 2)   # SIGINT: tcpdump writes out what it has and exits
    cap.wait(10)


def test_each_peer_through_its_own_netif(rig, tmp_path):
    dev, lan, wan, lan_sink, wan_sink = rig
    pcap = str(tmp_path / "lan.pcap")
    cap = capture(lan, "tap0", pcap, "tcp")
    try:
        assert "250 2.0.0" in swaks(lan, LAN_DEV, "u@mx.wan.test", "to wan")
        assert "250 2.0.0" in swaks(lan, LAN_DEV, "u@example.com", "to lan")
        assert wan_sink.wait_count(1, 30) == 1, dev.cmd("show queue") + dev.cmd("events")
        assert lan_sink.wait_count(1, 30) == 1
    finally:
        stop_capture(cap)
    meta, _ = wan_sink.messages()[0]
    assert meta["X-Helo-Args"] == ["mta.wan.test"] and meta["X-Client-Addr"] == [WAN_DEV]
    meta, _ = lan_sink.messages()[0]
    assert meta["X-Helo-Args"] == ["mta.lan.test"] and meta["X-Client-Addr"] == [LAN_DEV]
    r = subprocess.run(["tshark", "-r", pcap, "-Y", f"ip.dst=={WAN_PEER} && tcp.flags.syn==1"],
                       capture_output=True, timeout=60)
    assert r.stdout.decode().strip() == "", r.stdout.decode()
    # the capture works: it saw the LAN delivery's SYN from the device
    r = subprocess.run(["tshark", "-r", pcap, "-Y", f"ip.src=={LAN_DEV} && ip.dst=={LAN_PEER} && tcp.flags.syn==1"],
                       capture_output=True, timeout=60)
    assert r.stdout.decode().strip() != ""
    r = subprocess.run(["tshark", "-r", pcap, "-Y", f"ip.src=={LAN_DEV} && ip.dst=={WAN_PEER}"],
                       capture_output=True, timeout=60)
    assert r.stdout.decode().strip() == "", "packets to the WAN peer left through the LAN netif"
    # and on the WAN side the device's SYN to the WAN peer came from the WAN address

    out = dev.cmd("route get u@mx.wan.test")
    assert "netif:     wan0" in out and f"source:    {WAN_DEV}" in out and "ehlo:      mta.wan.test" in out


def test_listener_failure_on_one_netif_does_not_stop_the_mta(rig):
    dev, lan, wan, lan_sink, wan_sink = rig
    ev = dev.cmd("events")
    assert re.search(r"9321 netif: could not listen on spare: err -?\d+", ev), ev
    assert "9266" not in ev
    out = dev.cmd("show listeners")
    assert re.search(r"spare .*NOT listening", out), out
    # mail is still accepted on eth0 and relayed
    assert "250 2.0.0" in swaks(lan, LAN_DEV, "u@example.com", "still working")
    assert lan_sink.wait_count(1, 30) == 1
    # give the spare netif a link and an address: its listener comes up on the next retry
    sh("ip", "-n", dev.ns.name, "link", "set", "tap2", "up")
    dev.cmd("interface spare address 203.0.113.2/24 up")
    wait_until(lambda: re.search(r"spare .* listening", out := dev.cmd("show listeners")) and "NOT" not in out,
               15, "spare listening", detail=lambda: dev.cmd("show listeners"))
    assert re.search(r"1200 smtpd: listener started on spare", dev.cmd("events id 1200"))


def test_relay_policy_is_per_netif(rig):
    dev, lan, wan, lan_sink, wan_sink = rig
    dev.cmd("relay wan0 none")
    # a client on the WAN side may not relay, a client on the LAN may
    out = swaks(wan, WAN_DEV, "u@example.com", "from wan")
    assert re.search(r"55[04] 5\.7\.1", out), out
    assert "250 2.0.0" in swaks(lan, LAN_DEV, "u@example.com", "from lan")
    assert lan_sink.wait_count(1, 30) == 1
    # the denial is an event naming the client and the interface (1203),
    # and the accepted message's 1201 names the interface it came in on
    ev = dev.cmd("events")
    assert re.search(r"1203 smtpd: relay denied to \d+\.\d+\.\d+\.\d+ on wan0", ev), ev
    assert re.search(r"1201 smtpd: message [0-9A-F]+ accepted on eth0", ev), ev


def test_peer_next_hop_override(rig, tmp_path):
    dev, lan, wan, lan_sink, wan_sink = rig
    far, router = "203.0.113.25", "198.51.100.9"
    # a second router on the WAN segment, and a peer behind it
    sh("ip", "-n", wan.name, "addr", "add", f"{router}/24", "dev", "tap1")
    sh("ip", "-n", wan.name, "addr", "add", f"{far}/32", "dev", "lo")
    far_sink = SmtpSink(25, host=far, netns=wan.name)
    pcap = str(tmp_path / "wan.pcap")
    cap = capture(wan, "tap1", pcap, "arp or tcp")
    try:
        dev.cmd(f"peer add far {far} port 25 via wan0 nexthop {router} enforce")
        dev.cmd("route add far.test far")
        out = dev.cmd("route get u@far.test")
        assert f"next hop:  {router}" in out and "netif:     wan0" in out, out
        assert "250 2.0.0" in swaks(lan, LAN_DEV, "u@far.test", "via the other router")
        assert far_sink.wait_count(1, 30) == 1, dev.cmd("events")
    finally:
        stop_capture(cap)
        far_sink.stop()
    r = subprocess.run(["tshark", "-r", pcap, "-Y", f"arp.opcode==1 && arp.src.proto_ipv4=={WAN_DEV}",
                        "-T", "fields", "-e", "arp.dst.proto_ipv4"], capture_output=True, timeout=60)
    asked = set(r.stdout.decode().split())
    dump = subprocess.run(["tshark", "-r", pcap], capture_output=True, timeout=60).stdout.decode()
    assert router in asked, dump + open(cap.errfile).read()
