"""CPU time and memory of process trees, read from /proc (no cgroups needed).

CPU: utime+stime of each live process plus cutime+cstime (what it has reaped
from children that exited).  For a tree rooted at a daemon that recycles its
children (Postfix's master), the tree's total is therefore

    root(self + reaped children) + sum over live descendants(self + reaped)

and the cost of a run is the difference of two such snapshots, each taken
while the tree is quiet (no child exiting between the reads).

Memory: VmRSS / VmHWM from /proc/PID/status, and Pss from
/proc/PID/smaps_rollup (proportional set size: shared pages divided among the
processes mapping them, so Pss values can be summed over processes; RSS
values cannot without counting shared libraries once per process).
"""
import os
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    """(ppid, self_ticks, reaped_children_ticks) or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    # fields after "pid (comm)": state ppid pgrp session tty tpgid flags minflt cminflt
    # majflt cmajflt utime stime cutime cstime ...
    ppid = int(rest[1])
    utime, stime, cutime, cstime = (int(x) for x in rest[11:15])
    return ppid, utime + stime, cutime + cstime


def descendants(root):
    """root and every live process below it."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _stat(int(name))
        if st:
            children.setdefault(st[0], []).append(int(name))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu_seconds(root):
    """CPU seconds used so far by the tree at `root` (including exited, reaped children)."""
    total = 0
    for pid in descendants(root):
        st = _stat(pid)
        if st:
            total += st[1] + st[2]
    return total / CLK_TCK


def proc_cpu_seconds(pid):
    st = _stat(pid)
    return (st[1] + st[2]) / CLK_TCK if st else None


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemSampler:
    """Samples a process tree every `period` s: peak of the summed VmRSS, peak of the
    summed Pss, peak number of processes, and the largest VmHWM of any single process."""

    def __init__(self, root, period=0.1):
        self.root = root
        self.period = period
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.peak_procs = 0
        self.max_hwm_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._t.start()
        return self

    def sample(self):
        pids = descendants(self.root)
        rss = sum(status_kb(p, "VmRSS") for p in pids)
        pss = sum(pss_kb(p) for p in pids)
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)
        self.peak_procs = max(self.peak_procs, len(pids))
        self.max_hwm_kb = max([self.max_hwm_kb] + [status_kb(p, "VmHWM") for p in pids])
        self.samples += 1

    def _run(self):
        while not self._stop.is_set():
            t = time.monotonic()
            self.sample()
            self._stop.wait(max(0.0, self.period - (time.monotonic() - t)))

    def stop(self):
        self._stop.set()
        self._t.join(5)
        self.sample()
        return self


def proc_runtime_s(pid):
    """On-CPU time (user + system) of one live process, in ns resolution: the
    first field of /proc/PID/schedstat (the scheduler's sum_exec_runtime)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return proc_cpu_seconds(pid)
