"""Arrival times at smtp-sink: inotify IN_CLOSE_WRITE on its dump directory.

smtp-sink closes a message's dump file when the message is complete.  File
mtimes would do, but on this kernel they come from the coarse clock (one
scheduler tick, 4 ms at HZ=250, and they lag by up to two ticks), which is
larger than the device's whole relay latency.  A thread blocked in read() on
an inotify descriptor timestamps each close with time.time_ns() instead
(error: the thread's wake-up delay, typically tens of microseconds; events
that arrive in one read() share one timestamp).
"""
import ctypes
import os
import select
import struct
import threading
import time

from peers import SmtpSink  # tests/integration (bench.py puts it on sys.path)

IN_CLOSE_WRITE = 0x00000008
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]


class SinkWatch:
    def __init__(self, directory):
        self.fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if _libc.inotify_add_watch(self.fd, directory.encode(), IN_CLOSE_WRITE) < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch")
        self.closed = {}  # file name -> time.time_ns() of its (last) close after writing
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop:
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if not r:
                continue
            try:
                buf = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            now = time.time_ns()
            i = 0
            while i + 16 <= len(buf):
                _, mask, _, ln = struct.unpack_from("iIII", buf, i)
                name = buf[i + 16:i + 16 + ln].split(b"\0", 1)[0].decode("utf-8", "replace")
                if mask & IN_CLOSE_WRITE and name:
                    self.closed[name] = now
                i += 16 + ln

    def stop(self):
        time.sleep(0.3)  # drain what is already queued
        self._stop = True
        self._t.join(2)
        os.close(self.fd)


class BenchSink(SmtpSink):
    """smtp-sink writing one dump file per message into a directory on tmpfs
    (/dev/shm): on ext4 creating the files caps smtp-sink at about 3000
    messages/s on this machine, which is about what the device relays."""

    def __init__(self, port, host="127.0.0.1", netns=None, backlog=100):
        super().__init__(port, host=host, netns=netns, backlog=backlog,
                         base_dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
