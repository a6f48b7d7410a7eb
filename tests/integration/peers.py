"""Real peer MTAs for the tests: Postfix's smtp-sink, dumping every message."""
import glob
import os
import shutil
import subprocess
import tempfile

from helpers import poll, wait_until


class SmtpSink:
    """smtp-sink listening on host:port; each received message lands in its own file.

    smtp-sink writes a dump as: its X-Client-*/X-Helo-Args/X-Mail-Args/X-Rcpt-Args
    lines, its own Received: header, then the message with CRLF turned into LF.
    The dumps live in a temporary directory that stop() removes (smtp-sink
    runs as nobody, so the directory cannot be under pytest's tmp_path).
    """

    def __init__(self, port, host="127.0.0.1", netns=None, backlog=100, options=(), base_dir=None):
        self.dir = tempfile.mkdtemp(prefix="sink-", dir=base_dir)
        os.chmod(self.dir, 0o777)
        argv = ["smtp-sink", "-d", os.path.join(self.dir, "%Y%m%d%H%M%S."), "-c"] + list(options)
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]  # smtp-sink refuses to keep root privileges
        argv += [f"{host}:{port}", str(backlog)]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.port, self.host, self.netns = port, host, netns
        wait_until(lambda: self.proc.poll() is not None or self._listening(), 10, f"smtp-sink on {host}:{port}")
        if self.proc.poll() is not None:
            raise RuntimeError("smtp-sink did not start: " + self.proc.stderr.read().decode())

    def _listening(self):
        argv = ["ss", "-Hltn", f"src {self.host}:{self.port}"]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        return subprocess.run(argv, capture_output=True, timeout=10).stdout.strip() != b""

    def files(self):
        return sorted(glob.glob(os.path.join(self.dir, "*")))

    def messages(self):
        """[(meta, message_text)] where meta holds the X-*-Args lines and message_text
        starts at the first header after smtp-sink's own Received: header."""
        out = []
        for f in self.files():
            with open(f, "rb") as fh:
                raw = fh.read()
            lines = raw.split(b"\n")
            meta = {}
            i = 0
            while i < len(lines) and lines[i].startswith(b"X-"):
                k, _, v = lines[i].partition(b": ")
                meta.setdefault(k.decode(), []).append(v.decode("utf-8", "replace"))
                i += 1
            # smtp-sink's own Received: header and its folded continuation lines
            if i < len(lines) and lines[i].startswith(b"Received: "):
                i += 1
                while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
                    i += 1
            out.append((meta, b"\n".join(lines[i:])))
        return out

    def complete(self):
        """True when smtp-sink holds none of its dump files open: each one is
        whole (it opens the file at MAIL and closes it after the final dot)."""
        fd_dir = f"/proc/{self.proc.pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:   # smtp-sink has exited: nothing is open
            return True
        open_files = set()
        for fd in fds:
            try:
                open_files.add(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:   # closed meanwhile
                pass
        return not open_files.intersection(self.files())

    def wait_count(self, n, timeout):
        """Wait (bounded) until at least n complete messages are here; returns how many there are."""
        poll(lambda: len(self.files()) >= n and self.complete(), timeout, 0.2)
        return len(self.files())

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def strip_our_received(msg):
    """Split off the first header if it is a Received: header (with folded lines).
    Returns (received_text, rest)."""
    lines = msg.split(b"\n")
    if not lines or not lines[0].startswith(b"Received: "):
        return None, msg
    i = 1
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    return b"\n".join(lines[:i]), b"\n".join(lines[i:])
