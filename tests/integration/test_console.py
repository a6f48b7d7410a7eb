"""Serial console of mps2-an385 in QEMU: boot, every system command, bad input, poweroff."""
import re
import smtplib

from device import PROMPT
from helpers import wait_until

# QEMU's default MAC for the first NIC (-net nic without macaddr=): the
# driver must report what the (emulated) chip holds
QEMU_MAC = "52:54:00:12:34:56"


def test_boot_to_prompt_within_10s(mps2):
    # The fixture already waited for the prompt (10 s bound); the boot event is in the ring.
    out = mps2.cmd("events id 1000")
    assert re.search(r"1000 system: system started", out)


def test_boot_banner(mps2):
    # before the first prompt: version and board, every interface with its
    # address and hostname, and where to start
    boot_text = mps2.text[:mps2.text.index(PROMPT)]
    version = mps2.cmd("version").splitlines()[0]
    assert version.startswith("gateway-mta ") and version in boot_text, boot_text
    assert re.search(r"^  eth0\s+10\.0\.2\.15\s+up\s+mta\.eth0\.gateway\.test$", boot_text, re.M), boot_text
    assert re.search(r"^  sl0\s+172\.31\.0\.2\s+up\s+mta\.sl0\.gateway\.test$", boot_text, re.M), boot_text
    assert "Type 'help'" in boot_text


def test_version(mps2):
    out = mps2.cmd("version")
    assert "gateway-mta" in out and "mps2-an385" in out


def test_help_lists_commands(mps2):
    out = mps2.cmd("help")
    for c in ("version", "show netif", "events", "events clear", "events catalog",
              "events explain", "ping", "reboot", "poweroff"):
        assert c in out


def test_show_netif_eth0_up_with_address(mps2):
    # Link state is polled; give it a moment after boot.
    def link_up():
        out = mps2.cmd("show netif")
        return out if "link up" in out else None
    out = wait_until(link_up, 5, "eth0 link up")
    assert re.search(r"eth0\s+ethernet\s+up, link up", out), out
    assert "addr 10.0.2.15/24" in out and "gw 10.0.2.2" in out
    assert re.search(r"\bmac " + re.escape(QEMU_MAC) + r"\b", out), out
    assert re.search(r"rx \d+ pkts \d+ bytes, tx \d+ pkts \d+ bytes, drop rx \d+ tx \d+", out)


def test_events_catalog_has_field_ids(mps2):
    out = mps2.cmd("events catalog")
    for id_, sev in (("9318", "warning"), ("9321", "error"), ("9266", "error"),
                     ("2219", "warning"), ("2206", "warning"), ("2207", "info")):
        assert re.search(rf"^\s*{id_}\s+{sev}\b", out, re.M | re.I), (id_, out)


def test_events_explain(mps2):
    out = mps2.cmd("events explain 9321")
    assert "9321" in out and "listen" in out
    out = mps2.cmd("events explain 12345")
    assert out.strip().startswith("%") and len(out.strip().splitlines()) == 1


def test_events_filters_and_clear(mps2):
    out = mps2.cmd("events")
    assert "shown" in out
    out = mps2.cmd("events last 1")
    assert re.search(r"\(1 shown", out)
    out = mps2.cmd("events since 1")
    assert "1000" in out
    out = mps2.cmd("events clear")
    assert "events cleared" in out
    out = mps2.cmd("events id 1000")
    assert re.search(r"\(0 shown", out)
    out = mps2.cmd("events")
    assert "1002" in out  # the clear itself is recorded
    for bad in ("events last", "events last x", "events bogus 3", "events id 99999"):
        out = mps2.cmd(bad)
        assert out.strip().startswith("%"), (bad, out)


def test_full_event_ring_prints_whole_with_prompt(mps2):
    # fill the 256-event ring with relay denials (1203), about 25 KB of
    # `events` output: more than the 16 KiB console ring holds at once
    mps2.cmd("relay eth0 none")
    for _ in range(20):
        with smtplib.SMTP("127.0.0.1", mps2.smtp_port, timeout=30) as s:
            s.ehlo("client.lan.test")
            s.mail("dev@lan.test")
            for i in range(15):
                code, _ = s.rcpt(f"u{i}@elsewhere.example")
                assert code == 550
            s.rset()
    out = mps2.cmd("events", timeout=30)  # the prompt comes after all of it
    assert re.search(r"\(256 shown, 256 in ring, \d+ overwritten\)", out), out[-500:]
    assert len(re.findall(r"1203 smtpd: relay denied", out)) >= 250
    assert "dropped" not in out
    # and the console takes the next command as usual
    assert "gateway-mta" in mps2.cmd("version")


def test_ping_gateway(mps2):
    mps2.send("ping 10.0.2.2\r")
    m = mps2.expect(r"ping 10\.0\.2\.2: (\d+) sent, (\d+) received", timeout=10)
    assert m.group(1) == "3"
    # slirp answers ICMP echo to its gateway address
    assert int(m.group(2)) >= 1
    out = mps2.cmd("ping 10.0.2.2 via nosuch")
    assert "% unknown netif" in out
    out = mps2.cmd("ping 999.1.1.1")
    assert "% bad IPv4 address" in out


def test_bad_input_gets_one_error_line_and_console_survives(mps2):
    out = mps2.cmd("frobnicate now")
    lines = [l for l in out.splitlines() if l.strip()]
    assert lines == ["% unknown command 'frobnicate' (try 'help')"], lines
    # an overlong line
    mps2.send("x" * 600 + "\r")
    mps2.expect(r"% line too long", timeout=5)
    mps2.expect(re.escape(PROMPT))
    # binary garbage (no 0x01: that is QEMU's monitor escape on this console)
    junk = bytes(b for b in range(256) if b not in (0x01,)) * 8
    mps2.send(junk + b"\x03")
    mps2.expect(re.escape(PROMPT))
    # a flood of lines: bytes beyond the UART's RX ring may be dropped (as on a
    # real serial line without flow control), so each probe clears any
    # partial line first (^U); the console has survived once one answers
    mps2.send("nosuchcmd\r" * 200)
    mps2.expect(r"% unknown command 'nosuchcmd'", timeout=10)

    def answers_version():
        mps2.send("\x15version\r")
        try:
            return mps2.expect(r"gateway-mta", timeout=2)
        except TimeoutError:
            return None
    wait_until(answers_version, 20, "console answers 'version' after the flood")
    mps2.expect(re.escape(PROMPT))


def test_line_editing(mps2):
    mps2.send("versx\x7fion\r")
    mps2.expect(r"gateway-mta")
    mps2.expect(re.escape(PROMPT))
    mps2.send("garbage\x15version\r")
    mps2.expect(r"gateway-mta")
    mps2.expect(re.escape(PROMPT))
    mps2.send("reboot\x03")
    mps2.expect(r"\^C")
    mps2.expect(re.escape(PROMPT))


def test_reboot(mps2):
    mps2.send("reboot\r")
    mps2.expect(r"rebooting")
    mps2.expect(re.escape(PROMPT), timeout=10)
    out = mps2.cmd("events")
    assert "1000" in out


def test_poweroff_exits_qemu_with_status_0(mps2):
    mps2.send("poweroff\r")
    assert mps2.wait_exit(10) == 0
