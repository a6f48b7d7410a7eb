"""Drive a device (QEMU board or host board) through its serial console.

The device runs as a child process with the console on its stdin/stdout, as a
field engineer's terminal would see it.  A reader thread collects everything
the console prints; expect() waits, bounded in time, for a pattern.
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROMPT = "mta> "
ANSI = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Device:
    """cwd: the device's working directory.  QEMU keeps the board's flash in
    "flash.img" there: tests pass pytest's tmp_path (a factory-fresh device),
    or the same directory again to power-cycle the same device.  Without one
    the device gets a temporary directory that kill() removes."""

    def __init__(self, argv, name="device", cwd=None, env=None, console_socket=None):
        self._own_dir = None
        if cwd is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="dev-")
            cwd = self._own_dir.name
        self.cwd = cwd
        self.argv = argv
        self.name = name
        self.buf = b""
        self.mark = 0
        self.lock = threading.Condition()
        self.sock = None
        if console_socket:
            # console on a unix socket (QEMU chardev server): stdio unused
            self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, env=env, start_new_session=True)
            deadline = time.monotonic() + 10
            while True:
                try:
                    self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    self.sock.connect(console_socket)
                    break
                except OSError:
                    self.sock.close()
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise
                    time.sleep(0.05)
        else:
            self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                if self.sock is not None:
                    chunk = self.sock.recv(4096)
                else:
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
            except OSError:
                chunk = b""
            with self.lock:
                if not chunk:
                    self.lock.notify_all()
                    return
                self.buf += chunk
                self.lock.notify_all()

    @property
    def text(self):
        return ANSI.sub(b"", self.buf).decode("utf-8", "replace").replace("\r\n", "\n")

    def expect(self, pattern, timeout=10.0):
        """Wait until `pattern` (regex) appears in output after the mark; return the match.
        The mark moves past the match, so successive expects read forward."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                text = self.text
                m = rx.search(text, self.mark)
                if m:
                    self.mark = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    tail = text[self.mark:][-2000:]
                    raise TimeoutError(f"{self.name}: no /{pattern}/ within {timeout}s; output since mark:\n{tail}")
                self.lock.wait(min(left, 0.2))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.sock is not None:
            self.sock.sendall(data)
            return
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def cmd(self, line, timeout=10.0):
        """Type a command line, return everything it printed up to the next prompt."""
        self.send(line + "\r")
        start = self.expect(re.escape(line) + r"\n", timeout).end()
        m = self.expect(re.escape(PROMPT), timeout)
        return self.text[start:m.start()]

    def release_console(self):
        """Hang up a socket console so another program (the provisioning tool)
        can connect: QEMU's chardev server takes one client at a time."""
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.reader.join(5)

    def wait_exit(self, timeout=10.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        """Stop the process we started (by PID, its own session only)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None


def qemu_mps2(smtp_port, smarthost_port, extra=None, image=None, sl0_socket=None, eth0_pcap=None,
              console_socket=None, more_peers=()):
    """QEMU command line of the mps2-an385 board as `make run` builds it, plus
    optionally sl0 (UART1) on a unix socket and a capture of eth0's traffic."""
    image = image or os.path.join(ROOT, "build", "mps2-an385", "mta.elf")
    user = (f"user,id=n0,restrict=on,net=10.0.2.0/24,"
            f"hostfwd=tcp:127.0.0.1:{smtp_port}-:25,"
            f"guestfwd=tcp:10.0.2.100:25-cmd:socat - TCP:127.0.0.1:{smarthost_port}")
    # more (guest address, host port) pairs: further peers reachable from the guest
    for guest_ip, host_port in more_peers:
        user += f",guestfwd=tcp:{guest_ip}:25-cmd:socat - TCP:127.0.0.1:{host_port}"
    if console_socket:
        argv = ["qemu-system-arm", "-M", "mps2-an385", "-display", "none", "-monitor", "none",
                "-chardev", f"socket,id=con,path={console_socket},server=on,wait=off", "-serial", "chardev:con"]
    else:
        argv = ["qemu-system-arm", "-M", "mps2-an385", "-nographic", "-serial", "mon:stdio"]
    if sl0_socket:
        argv += ["-chardev", f"socket,id=sl0,path={sl0_socket},server=on,wait=off", "-serial", "chardev:sl0"]
    else:
        argv += ["-serial", "null"]
    argv += ["-semihosting-config", "enable=on,target=native",
             "-netdev", user, "-net", "nic,netdev=n0,model=lan9118"]
    if eth0_pcap:
        argv += ["-object", f"filter-dump,id=d0,netdev=n0,file={eth0_pcap}"]
    argv += ["-kernel", image]
    return argv + (extra or [])
