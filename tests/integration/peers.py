"""Real peer MTAs for the tests: Postfix's smtp-sink, dumping every message."""
import glob
import os
import subprocess
import tempfile
import time


class SmtpSink:
    """smtp-sink listening on host:port; each received message lands in its own file.

    smtp-sink writes a dump as: its X-Client-*/X-Helo-Args/X-Mail-Args/X-Rcpt-Args
    lines, its own Received: header, then the message with CRLF turned into LF.
    """

    def __init__(self, port, host="127.0.0.1", netns=None, backlog=100, options=()):
        self.dir = tempfile.mkdtemp(prefix="sink-")
        os.chmod(self.dir, 0o777)
        argv = ["smtp-sink", "-d", os.path.join(self.dir, "%Y%m%d%H%M%S."), "-c"] + list(options)
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]  # smtp-sink refuses to keep root privileges
        argv += [f"{host}:{port}", str(backlog)]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.port = port
        time.sleep(0.2)
        if self.proc.poll() is not None:
            raise RuntimeError("smtp-sink did not start: " + self.proc.stderr.read().decode())

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

    def wait_count(self, n, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.files()) >= n:
                time.sleep(0.3)  # let the last dump finish writing
                return len(self.files())
            time.sleep(0.2)
        return len(self.files())

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(5)


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
