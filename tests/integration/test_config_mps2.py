"""Configuration over the serial console (issue 5): provision a factory-fresh
mps2-an385 with the provisioning tool, save, power off, boot again: the same
running-config, and the device relays mail with it."""
import os
import re
import subprocess

from device import ROOT, free_port
from helpers import boot, swaks
from peers import SmtpSink

PROVISION = os.path.join(ROOT, "tests", "tools", "provision.py")

FULL_CONFIG = """\
! customer gateway, site 17
interface eth0 address 10.0.2.15/24 gateway 10.0.2.2 hostname gw17.customer.test mtu 1500 up
interface sl0 address 172.31.0.2/30 peer 172.31.0.1 hostname gw17-modem.customer.test mtu 1006 up
listener eth0 port 25
listener sl0 off
relay eth0 subnet
relay sl0 none
peer add hub 10.0.2.100 port 25 via eth0 enforce
peer add modemhub 172.31.0.1 port 25 via sl0
peer add modemhub 172.31.0.1 port 25 via sl0 failover hub@eth0
route add * hub
route add *.example.org hub modemhub
route add example.net modemhub
limit message-size 20000
limit recipients 50
queue retry 30 1800 86400
events live off
"""


def boot_socket(tmp, smtp_port, smarthost_port):
    """Boot with the console on a unix socket, as the provisioning tool needs it."""
    return boot(tmp, smtp_port=smtp_port, smarthost_port=smarthost_port,
                console_socket=os.path.join(str(tmp), "console.sock"), timeout=10)


def test_provision_save_poweroff_boot_same_config_and_relays(tmp_path):
    smtp_port, smarthost_port = free_port(), free_port()
    cfg = str(tmp_path / "site17.cfg")
    with open(cfg, "w") as f:
        f.write(FULL_CONFIG)
    dev = boot_socket(tmp_path, smtp_port, smarthost_port)
    try:
        assert "no startup-config saved" in dev.cmd("show startup-config")
        dev.release_console()  # the provisioning tool takes the console
        r = subprocess.run(["/usr/bin/python3", PROVISION, "--socket", dev.sock_path, cfg],
                           capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr.decode() + r.stdout.decode()
        assert "commands applied and saved" in r.stdout.decode()
    finally:
        dev.kill()
    # power cycle 1: read the configuration back
    dev = boot_socket(tmp_path, smtp_port, smarthost_port)
    try:
        first = dev.cmd("show running-config")
        assert ", saved" in first
        assert "hostname gw17.customer.test" in first and "mtu 1006" in first
        assert "limit message-size 20000" in first and "queue retry 30 1800 86400" in first
        assert "peer add hub 10.0.2.100 port 25 via eth0 enforce" in first
        assert "failover hub@eth0" in first and "listener sl0 off" in first
        assert re.search(r"1501 config: configuration loaded from slot \d", dev.cmd("events id 1501"))
        dev.send("poweroff\r")
        assert dev.wait_exit(10) == 0
    finally:
        dev.kill()
    # power cycle 2: identical, and mail is relayed with this configuration
    dev = boot_socket(tmp_path, smtp_port, smarthost_port)
    sink = SmtpSink(smarthost_port)
    try:
        second = dev.cmd("show running-config")
        assert second == first
        rc, out = swaks(smtp_port, frm="a@lan.test", to="user@mx.example.org", helo=None, body="configured")
        assert "250 2.0.0" in out, out
        assert "SIZE 20000" in out  # the saved limit is announced
        assert sink.wait_count(1, 30) == 1
        meta, text = sink.messages()[0]
        assert meta["X-Helo-Args"] == ["gw17.customer.test"]
        assert b"by gw17.customer.test (eth0 10.0.2.15)" in text
    finally:
        sink.stop()
        dev.kill()


def test_paste_running_config_into_factory_reset_device_reproduces_it(tmp_path):
    dev = boot_socket(tmp_path, free_port(), free_port())
    try:
        for line in FULL_CONFIG.splitlines():
            out = dev.cmd(line)
            assert not out.strip().startswith("%"), (line, out)
        text = dev.cmd("show running-config")
        body = [l for l in text.splitlines() if not l.startswith("!")]
        dev.cmd("factory-reset confirm")
        dev.send("reboot\r")
        dev.expect(r"rebooting")
        dev.expect(r"mta> ", timeout=10)
        fresh = dev.cmd("show running-config")
        assert "gw17" not in fresh
        for line in body:  # paste
            out = dev.cmd(line)
            assert not out.strip().startswith("%"), (line, out)
        again = [l for l in dev.cmd("show running-config").splitlines() if not l.startswith("!")]
        assert again == body
    finally:
        dev.kill()


BAD = [
    ("interface eth9 up", "unknown netif 'eth9'"),
    ("interface eth0 address 10.0.2.300/24", "bad address"),
    ("interface eth0 address 10.0.2.15/33", "bad prefix"),
    ("interface eth0 address 10.0.2.15/24 gateway 192.168.1.1", "not on eth0's subnet"),
    ("interface eth0 hostname -bad-", "bad hostname"),
    ("interface eth0 hostname " + "a" * 70, "bad hostname"),
    ("interface eth0 mtu 9000", "bad mtu"),
    ("peer add " + "p" * 40 + " 10.0.2.100", "peer name too long"),
    ("peer add x 10.0.2", "bad peer address"),
    ("peer add x 10.0.2.100 port 70000", "bad port"),
    ("peer add x 10.0.2.100 via eth7", "unknown netif"),
    ("peer add x 10.0.2.100 failover nosuch@eth0", "unknown peer"),
    ("route add *.x.test nosuch", "unknown peer"),
    ("peer del smarthost", "smarthost"),          # a route still uses it
    ("route del nothing.test", "no route"),
    ("limit message-size 10", "out of range"),
    ("limit recipients 0", "out of range"),
    ("limit bogus 1", "unknown limit"),
    ("queue retry 0 10 10", "bad first retry"),
    ("queue retry 60 30 100", "bad maximum retry"),
    ("relay eth0 sometimes", "bad relay policy"),
    ("listener eth0 port 0", "usage"),
    ("events live loud", "bad severity"),
    ("console password short", "8-64"),
    ("clock set 2026-02-30T10:00:00Z", "bad time"),
    ("factory-reset", "factory-reset confirm"),
]


def test_bad_config_input_one_clear_line_and_nothing_changes(mps2):
    before = mps2.cmd("show running-config")
    for line, why in BAD:
        out = mps2.cmd(line)
        lines = [l for l in out.splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith("% ") and why in lines[0], (line, out)
    # duplicate route pattern replaces, duplicate peer name modifies: not errors;
    # nothing above changed the configuration
    after = mps2.cmd("show running-config")
    assert after == before
