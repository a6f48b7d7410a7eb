"""The helpers every test (and tests/bench) shares, written once:

- boot():       start a device (mps2-an385 in QEMU, or any argv such as the
                host board) and wait for its console prompt;
- swaks():      one submission with swaks, returning (exit status, transcript);
- wait_until(): a bounded poll on a positive condition that fails with a
                message saying what did not happen (poll() is the same loop
                without the failure, for callers that report a count).

A test never sleeps and then asserts that something did not happen: it waits
for a positive signal (an event, an empty queue, a counter) and keeps a
positive control beside the negative check.
"""
import os
import re
import subprocess
import time

from device import PROMPT, Device, free_port, qemu_mps2


def poll(cond, timeout, interval=0.25):
    """cond() until it returns something truthy or `timeout` seconds have
    passed; returns its last value (falsy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def wait_until(cond, timeout, what, interval=0.25, detail=None):
    """cond() until it returns something truthy; returns that value.  After
    `timeout` seconds raises AssertionError "<what>: not within <timeout> s",
    with the last value and detail() (e.g. the device's events) appended."""
    v = poll(cond, timeout, interval)
    if v:
        return v
    msg = f"{what}: not within {timeout} s (last: {v!r})"
    if detail is not None:
        msg += "\n" + str(detail())
    raise AssertionError(msg)


def boot(cwd, argv=None, smtp_port=None, smarthost_port=None, console_socket=None, name=None, timeout=20,
         **qemu):
    """Start a device in `cwd` and wait (bounded) for its console prompt.
    cwd None: a temporary directory that the Device's kill() removes.

    Without argv: mps2-an385 in QEMU with qemu_mps2(smtp_port, smarthost_port,
    **qemu) (free ports are picked when not given); QEMU keeps the board's
    flash in cwd/flash.img, so booting again in the same cwd is a power cycle
    of the same device.  With argv: that command (the host board, or a QEMU
    command line a caller changed).  console_socket: the console is a QEMU
    chardev socket at that path, so Enter is pressed to get a prompt.
    Returns the Device with .smtp_port and .smarthost_port set."""
    if argv is None:
        smtp_port = smtp_port or free_port()
        smarthost_port = smarthost_port or free_port()
        if console_socket and os.path.exists(console_socket):
            os.unlink(console_socket)
        argv = qemu_mps2(smtp_port, smarthost_port, console_socket=console_socket, **qemu)
        name = name or "mps2-an385"
    dev = Device(argv, name=name or os.path.basename(argv[0]), cwd=None if cwd is None else str(cwd),
                 console_socket=console_socket)
    dev.smtp_port, dev.smarthost_port, dev.sock_path = smtp_port, smarthost_port, console_socket
    try:
        if console_socket:
            dev.send("\r")
        dev.expect(re.escape(PROMPT), timeout=timeout)
    except BaseException:
        dev.kill()
        raise
    return dev


def swaks(server, to="user@example.com", frm="dev@lan.test", helo="client.lan.test", subject=None, body=None,
          data=None, extra=(), timeout=30, netns=None):
    """One submission with swaks; returns (exit status, stdout).

    server: a port on 127.0.0.1, or "host:port".  frm="" is the null sender
    (swaks itself would take an empty --from as "use root@<this host>").
    subject/body: swaks builds
    the message; data (bytes): the whole message as sent, on swaks' stdin.
    extra: further swaks options (--tls, --auth ...).  netns: a Netns to run
    swaks in.  In the transcript '<~ ' marks replies received inside TLS."""
    if isinstance(server, int):
        server = f"127.0.0.1:{server}"
    argv = ["swaks", "--server", server, "--from", frm or "<>", "--to", to, "--timeout", str(timeout)]
    if helo:
        argv += ["--helo", helo]
    if subject is not None:
        argv += ["--header", f"Subject: {subject}"]
    if body is not None:
        argv += ["--body", body]
    if data is not None:
        argv += ["--data", "-"]
    argv += list(extra)
    if netns is not None:
        argv = netns.argv(*argv)
    r = subprocess.run(argv, input=data, capture_output=True, timeout=2 * timeout + 30)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def show_stats(dev):
    """The counters of `show stats` as {name: int} (names as printed:
    "messages accepted", "delivered", "failed", "DSNs", "messages" ...)."""
    out = dev.cmd("show stats")
    stats = {}
    for m in re.finditer(r"([A-Za-z][A-Za-z /-]*?) (\d+)\b", out):
        stats.setdefault(m.group(1).strip().split(": ")[-1], int(m.group(2)))
    return stats


def queue_empty(dev):
    """True when the queue holds no message and no open transaction."""
    s = show_stats(dev)
    return s.get("messages") == 0 and s.get("open transactions") == 0
