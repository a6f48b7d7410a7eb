#!/usr/bin/python3
"""Relay benchmark: the device side by side with Postfix, and instruction cost
per message on the Cortex-M3 (see tests/bench/README.md for the methods).

  host board  (default)   smtp-source -> mta-host (TAP, private netns) -> smtp-sink
                          smtp-source -> private Postfix instance      -> smtp-sink
                          same N, S, C; plus a latency probe during each load
  mps2-an385              smtp-source -> QEMU -icount shift=0 (hostfwd) -> guestfwd/socat -> smtp-sink
                          instructions per relayed message for several sizes

Writes build/bench/results.md (and, with --sweep, build/bench/sweep.csv and
sweep.png).  Run as root (network namespaces) with Debian's /usr/bin/python3.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

from device import free_port, qemu_mps2  # noqa: E402
from helpers import boot, poll, queue_empty, wait_until  # noqa: E402
from netns import Netns, can_use_netns  # noqa: E402
import procstat  # noqa: E402
from postfix import PostfixInstance  # noqa: E402
from sinkwatch import BenchSink, SinkWatch  # noqa: E402

PY = "/usr/bin/python3"
OUT = os.path.join(ROOT, "build", "bench")
HOST_IMAGE = os.path.join(ROOT, "build", "host", "mta-host")
MPS2_IMAGE = os.path.join(ROOT, "build", "mps2-an385", "mta.elf")
DEV_IP, PEER_IP = "192.0.2.2", "192.0.2.1"
DEV_SINK_PORT, PF_PORT, PF_SINK_PORT = 2526, 2525, 2527
SWEEP_C = (1, 5, 20, 50)
SWEEP_S = (512, 2048, 8192, 65536)
MPS2_SIZES = (512, 2048, 8192)

DURABILITY = ("Durability: Postfix fsync()s every queue file before it answers 250 (queue on "
              "{fs}); the host board runs here with its RAM store (no --flash), which is NOT durable -- "
              "a power cut loses every message it has accepted but not yet relayed.  (mps2-an385 queues "
              "on its flash store, which writes the commit record before the 250.)")


def log(msg):
    print(msg, flush=True)


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def fs_type(path):
    try:
        out = subprocess.run(["df", "-T", path], capture_output=True, text=True).stdout.splitlines()
        return out[1].split()[1]
    except (IndexError, OSError):
        return "?"


# ---------------------------------------------------------------- one load
def sink_scan(sink_dir, watch):
    """(count, last arrival ns, {probe id: arrival ns}, arrivals timed by inotify) of
    smtp-sink's dump files.  Arrival = inotify close time, else the file's mtime."""
    files = glob.glob(os.path.join(sink_dir, "*"))
    last = 0
    probes = {}
    timed = 0
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            continue
        t = watch.closed.get(os.path.basename(f))
        if t is None:
            t = st.st_mtime_ns
        else:
            timed += 1
        last = max(last, t)
        with open(f, "rb") as fh:
            head = fh.read(4096)
        m = re.search(rb"^X-Bench-Probe: (\S+)", head, re.M)
        if m:
            probes[m.group(1).decode()] = t
    return len(files), last, probes, timed


def count_files(d):
    with os.scandir(d) as it:
        return sum(1 for _ in it)


def wait_sink(sink_dir, expected, drained=None, stall_s=30, cap_s=900):
    """Wait until the sink holds `expected` messages; or, when `drained()` says the MTA's
    queue is empty, until the sink count is stable for 1 s; or until nothing new arrived
    for stall_s seconds (all bounded by cap_s).  Returns the count."""
    deadline = time.monotonic() + cap_s
    last_n, last_change, next_drain_check = -1, time.monotonic(), 0.0
    while time.monotonic() < deadline:
        n = count_files(sink_dir)
        now = time.monotonic()
        if n >= expected:
            time.sleep(0.3)  # let the last dump be closed
            return count_files(sink_dir)
        if n != last_n:
            last_n, last_change = n, now
        elif now - last_change > stall_s:
            break
        elif drained and now - last_change > 1.0 and now >= next_drain_check:
            next_drain_check = now + 0.5
            if drained():
                break
        time.sleep(0.05)
    return count_files(sink_dir)


def run_load(ns, ip, port, sink, n, size, sessions, probe_interval, tag):
    """smtp-source (n messages of `size` payload octets over `sessions` sessions) plus
    the latency probe, both inside netns `ns`; returns timing facts."""
    src_argv = ns.argv("smtp-source", "-s", str(sessions), "-m", str(n), "-l", str(size),
                       "-f", "load@lan.test", "-t", "sink@example.com", "-M", "client.lan.test",
                       f"{ip}:{port}")
    t0 = time.time_ns()
    src = subprocess.Popen(src_argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    probe = subprocess.Popen(ns.argv(PY, os.path.join(HERE, "probe.py"), "--host", ip, "--port", str(port),
                                     "--size", str(size), "--interval", str(probe_interval), "--tag", tag),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    try:
        out, err = src.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        os.killpg(src.pid, 9)
        out, err = src.communicate()
        err += b"\nbench: smtp-source killed after 900 s"
    t_src = time.time_ns()
    try:
        pout, perr = probe.communicate(input=b"stop\n", timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(probe.pid, 9)
        pout, perr = probe.communicate()
    probes = [json.loads(line) for line in pout.decode().splitlines() if line.startswith("{")]
    probes_ok = [p for p in probes if "error" not in p]
    return {
        "t0": t0, "t_src": t_src, "src_rc": src.returncode,
        "src_err": err.decode("utf-8", "replace").strip()[-600:],
        "probes": probes, "probes_ok": probes_ok,
        "expected": n + len(probes_ok),
    }


def idle_latency(ns, ip, port, sink_dir, size, count=20, interval=0.02):
    """Latency with no other load: `count` probes, one every `interval` s.  Their dump
    files are removed afterwards so the load run starts from an empty sink."""
    watch = SinkWatch(sink_dir)
    r = subprocess.run(ns.argv(PY, os.path.join(HERE, "probe.py"), "--host", ip, "--port", str(port),
                               "--size", str(size), "--interval", str(interval), "--max", str(count),
                               "--tag", "idle", "--ignore-stdin"), stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    probes = [json.loads(line) for line in r.stdout.decode().splitlines() if line.startswith("{")]
    ok = [p for p in probes if "error" not in p]
    wait_sink(sink_dir, len(ok), stall_s=10, cap_s=60)
    watch.stop()
    _, _, arrived, _ = sink_scan(sink_dir, watch)
    lat = sorted((arrived[p["id"]] - p["eod_ns"]) / 1e6 for p in ok if p["id"] in arrived)
    for f in glob.glob(os.path.join(sink_dir, "*")):
        os.unlink(f)
    return {"idle_n": len(lat), "idle_p50_ms": pct(lat, 50) if lat else float("nan"),
            "idle_max_ms": max(lat) if lat else float("nan")}


def finish_load(ld, sink_dir, n, watch):
    """After the sink is complete (or stalled): throughput and latency."""
    watch.stop()
    count, last, arrived, timed = sink_scan(sink_dir, watch)
    ld["delivered"] = count
    ld["inotify_timed"] = timed
    el = (last - ld["t0"]) / 1e9 if last else float("nan")
    ld["elapsed_s"] = el
    ld["msgs_per_s"] = count / el if last else 0.0
    ld["accept_per_s"] = (n + len(ld["probes_ok"])) / ((ld["t_src"] - ld["t0"]) / 1e9)
    series = [((p["eod_ns"] - ld["t0"]) / 1e6, (arrived[p["id"]] - p["eod_ns"]) / 1e6)
              for p in ld["probes_ok"] if p["id"] in arrived]
    ld["lat_series_ms"] = [(round(a, 2), round(b, 3)) for a, b in series]  # (sent after start, latency)
    lat = [b for _, b in series]
    ack = [(p["ok_ns"] - p["eod_ns"]) / 1e6 for p in ld["probes_ok"]]
    ld["lat_n"] = len(lat)
    ld["lat_missing"] = len(ld["probes_ok"]) - len(lat)
    ld["probe_errors"] = sorted({p["error"][:60] for p in ld["probes"] if "error" in p})
    ld["p50_ms"] = pct(lat, 50) if lat else float("nan")
    ld["p99_ms"] = pct(lat, 99) if lat else float("nan")
    ld["max_ms"] = max(lat) if lat else float("nan")
    ld["ack_p50_ms"] = pct(ack, 50) if ack else float("nan")
    del ld["probes"], ld["probes_ok"]
    return ld


# ---------------------------------------------------------------- host board
def parse_stats(text):
    g = lambda rx: int(m.group(1)) if (m := re.search(rx, text)) else None  # noqa: E731
    return {"sessions": g(r"sessions (\d+),"), "busy": g(r"refused busy (\d+)"),
            "accepted": g(r"messages accepted (\d+)"), "rej_queue": g(r"queue full (\d+)"),
            "delivered": g(r"delivered (\d+)"), "deferrals": g(r"deferrals (\d+)"),
            "failed": g(r"failed (\d+)"), "timeouts": g(r"timeouts (\d+)")}


def pool_pressure(mem_text):
    """Pools from `show mem` whose high-water mark reached their size or that counted errors."""
    hot = []
    for line in mem_text.splitlines():
        m = re.match(r"\s*(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+|-)\s+(\d+)\s*$", line)
        if not m or m.group(1) == "event ring":  # a ring overwrites by design
            continue
        name, size, _, mx, err = m.group(1), int(m.group(2)), m.group(3), m.group(4), int(m.group(5))
        if err or (mx != "-" and size and int(mx) >= size):
            hot.append(f"{name} {mx}/{size} at peak, {err} allocation errors" +
                       (" (TCP_PCB: TIME_WAIT PCBs are recycled)" if name == "TCP_PCB" and not err else ""))
    return hot


def run_device(ns, n, size, sessions, probe_interval):
    sink = BenchSink(DEV_SINK_PORT, host=PEER_IP, netns=ns.name, backlog=max(100, 2 * sessions))
    dev = None
    try:
        dev = boot(None, ns.argv(HOST_IMAGE, "--netif", f"eth0=tap0,{DEV_IP}/24,{PEER_IP},mta.lan.test",
                                 "--exec", f"peer add sink {PEER_IP} port {DEV_SINK_PORT} via eth0",
                                 "--exec", "route add * sink"), name="mta-host", timeout=10)
        wait_until(lambda: "listening" in (out := dev.cmd("show listeners")) and "NOT" not in out, 5,
                   "mta-host listening on eth0", interval=0.1, detail=lambda: dev.cmd("show listeners"))
        pid = dev.proc.pid  # `ip netns exec` execs mta-host: same PID
        idle = idle_latency(ns, DEV_IP, 25, sink.dir, size)
        st0 = parse_stats(dev.cmd("show stats"))  # the unloaded probes' counts, subtracted below
        cpu0 = procstat.proc_runtime_s(pid)
        mem = procstat.MemSampler(pid, period=0.2).start()
        watch = SinkWatch(sink.dir)
        ld = run_load(ns, DEV_IP, 25, sink, n, size, sessions, probe_interval, "dev")
        wait_sink(sink.dir, ld["expected"], drained=lambda: queue_empty(dev))
        cpu1 = procstat.proc_runtime_s(pid)
        mem.stop()
        ld = finish_load(ld, sink.dir, n, watch)
        ld.update(idle)
        ld["cpu_s"] = cpu1 - cpu0
        ld["cpu_per_msg"] = ld["cpu_s"] / ld["delivered"] if ld["delivered"] else float("nan")
        ld["rss_kb"] = procstat.status_kb(pid, "VmHWM")
        ld["pss_kb"] = mem.peak_pss_kb
        ld["procs"] = 1
        st1 = parse_stats(dev.cmd("show stats"))
        ld["stats"] = {k: (v - st0[k] if v is not None and st0.get(k) is not None else v) for k, v in st1.items()}
        ld["pools"] = pool_pressure(dev.cmd("show mem"))
        ld["netif_drops"] = [f"{m.group(1)} rx {m.group(2)} tx {m.group(3)}" for m in
                             re.finditer(r"(?ms)^(\w+)\s.*?drop rx (\d+) tx (\d+)", dev.cmd("show netif"))
                             if m.group(2) != "0" or m.group(3) != "0"]
        dev.send("poweroff\r")
        if dev.wait_exit(10) is None:
            ld["note"] = "did not power off"
        ld["crashed"] = dev.proc.returncode not in (0, None)
        return ld
    finally:
        if dev:
            dev.kill()
        sink.stop()
        shutil.rmtree(sink.dir, ignore_errors=True)


def run_postfix(ns, n, size, sessions, probe_interval):
    sink = BenchSink(PF_SINK_PORT, host="127.0.0.1", netns=ns.name, backlog=max(100, 2 * sessions))
    # relay-only, its queue on the same disk as the repository would be (not
    # tmpfs), so its fsync() before each 250 costs what it costs here
    pf = PostfixInstance.relay(None, "127.0.0.1", PF_PORT, "127.0.0.1", PF_SINK_PORT, hostname="postfix.bench.test",
                               netns=ns.name, mynetworks=f"127.0.0.0/8 {PEER_IP}/32",
                               proclimit=max(100, 2 * sessions + 20))
    try:
        pf.start()
        time.sleep(0.5)
        idle = idle_latency(ns, "127.0.0.1", PF_PORT, sink.dir, size)
        poll(lambda: pf.queue_count() == 0, 10, 0.1)
        time.sleep(1.0)  # let the resident daemons settle (quiet snapshot)
        root = pf.master_pid
        cpu0 = procstat.tree_cpu_seconds(root)
        mem = procstat.MemSampler(root, period=0.2).start()
        watch = SinkWatch(sink.dir)
        ld = run_load(ns, "127.0.0.1", PF_PORT, sink, n, size, sessions, probe_interval, "pf")
        wait_sink(sink.dir, ld["expected"], drained=lambda: pf.queue_count() == 0)
        poll(lambda: pf.queue_count() == 0, 10, 0.1)  # queue manager's last "removed"s, then a quiet tree
        time.sleep(0.5)
        cpu1 = procstat.tree_cpu_seconds(root)
        mem.stop()
        ld = finish_load(ld, sink.dir, n, watch)
        ld.update(idle)
        ld["cpu_s"] = cpu1 - cpu0
        ld["cpu_per_msg"] = ld["cpu_s"] / ld["delivered"] if ld["delivered"] else float("nan")
        ld["rss_kb"] = mem.peak_rss_kb
        ld["pss_kb"] = mem.peak_pss_kb
        ld["procs"] = mem.peak_procs
        ld["queue_fs"] = fs_type(pf.queue)
        ld["deferred"] = pf.log_count("status=deferred")
        ld["crashed"] = False
        return ld
    finally:
        pf.cleanup()
        sink.stop()
        shutil.rmtree(sink.dir, ignore_errors=True)


def host_pair(n, size, sessions, probe_interval):
    if not can_use_netns():
        sys.exit("bench: needs root and /dev/net/tun (private network namespace)")
    ns = Netns(f"mtab{os.getpid()}")
    try:
        ns.add_tap("tap0", f"{PEER_IP}/24")
        log(f"-- device:  N={n} S={size} C={sessions}")
        d = run_device(ns, n, size, sessions, probe_interval)
        log(f"   {summary(d)}")
        log(f"-- postfix: N={n} S={size} C={sessions}")
        p = run_postfix(ns, n, size, sessions, probe_interval)
        log(f"   {summary(p)}")
        return d, p
    finally:
        ns.delete()


def summary(r):
    s = (f"delivered {r['delivered']}, {r['msgs_per_s']:.0f} msg/s end to end, p50 {r['p50_ms']:.1f} ms, "
         f"p99 {r['p99_ms']:.1f} ms, CPU {r['cpu_per_msg'] * 1e6:.0f} us/msg")
    if r["src_rc"]:
        s += f"  [smtp-source exit {r['src_rc']}: {r['src_err'].splitlines()[-1] if r['src_err'] else ''}]"
    return s


def problems(r, who):
    out = []
    if r["src_rc"]:
        out.append(f"{who}: smtp-source exited {r['src_rc']}: " + " | ".join(r["src_err"].splitlines()[-2:]))
    st = r.get("stats")
    if st and st.get("accepted") is not None:
        if st["accepted"] != r["delivered"]:
            out.append(f"{who}: accepted {st['accepted']} messages but {r['delivered']} reached the sink")
    elif r["src_rc"] == 0 and r["delivered"] < r["expected"]:
        out.append(f"{who}: only {r['delivered']} of {r['expected']} accepted messages reached the sink")
    if r.get("inotify_timed", r["delivered"]) < r["delivered"]:
        out.append(f"{who}: {r['delivered'] - r['inotify_timed']} arrivals missed by inotify, timed by coarse mtime")
    if r["probe_errors"]:
        out.append(f"{who}: probe errors: " + "; ".join(r["probe_errors"]))
    if r.get("crashed"):
        out.append(f"{who}: device process exited abnormally")
    if st:
        if st.get("busy"):
            out.append(f"{who}: {st['busy']} sessions refused busy (421 4.3.2, session pool)")
        if st.get("rej_queue"):
            out.append(f"{who}: {st['rej_queue']} messages refused queue full (452)")
        if st.get("deferrals"):
            out.append(f"{who}: {st['deferrals']} deferrals")
    if r.get("pools"):
        out.append(f"{who}: pools at their limit: " + "; ".join(r["pools"]))
    if r.get("netif_drops"):
        out.append(f"{who}: frames dropped (show netif): " + "; ".join(r["netif_drops"]))
    if r.get("deferred"):
        out.append(f"{who}: {r['deferred']} deferred deliveries")
    return out


def ratio(a, b):
    return a / b if b and b == b and a == a else float("nan")


def rfmt(a, b):
    """device/Postfix ratio with 3 significant digits."""
    r = ratio(a, b)
    return "n/a" if r != r else f"{r:.3g}"


def host_table(d, p):
    done = lambda r: "yes" if r["src_rc"] == 0 else "NO (see problems)"  # noqa: E731
    rows = [
        ("load complete (smtp-source exit 0)", done(d), done(p), ""),
        ("messages at sink (load + probes)", f"{d['delivered']}", f"{p['delivered']}", ""),
        ("msgs/s end to end", f"{d['msgs_per_s']:.0f}", f"{p['msgs_per_s']:.0f}",
         rfmt(d['msgs_per_s'], p['msgs_per_s'])),
        ("msgs/s accepted (smtp-source done)", f"{d['accept_per_s']:.0f}", f"{p['accept_per_s']:.0f}",
         rfmt(d['accept_per_s'], p['accept_per_s'])),
        ("latency p50 unloaded (ms)", f"{d['idle_p50_ms']:.1f}", f"{p['idle_p50_ms']:.1f}",
         rfmt(d['idle_p50_ms'], p['idle_p50_ms'])),
        ("latency p50 under load, end of DATA -> sink (ms)", f"{d['p50_ms']:.1f}", f"{p['p50_ms']:.1f}",
         rfmt(d['p50_ms'], p['p50_ms'])),
        ("latency p99 under load (ms)", f"{d['p99_ms']:.1f}", f"{p['p99_ms']:.1f}", rfmt(d['p99_ms'], p['p99_ms'])),
        ("latency max under load (ms)", f"{d['max_ms']:.1f}", f"{p['max_ms']:.1f}", ""),
        ("250 after end of DATA, p50 (ms)", f"{d['ack_p50_ms']:.2f}", f"{p['ack_p50_ms']:.2f}",
         rfmt(d['ack_p50_ms'], p['ack_p50_ms'])),
        ("probe samples", f"{d['lat_n']}", f"{p['lat_n']}", ""),
        ("CPU s total (MTA side)", f"{d['cpu_s']:.2f}", f"{p['cpu_s']:.2f}", rfmt(d['cpu_s'], p['cpu_s'])),
        ("CPU us per message", f"{d['cpu_per_msg'] * 1e6:.0f}", f"{p['cpu_per_msg'] * 1e6:.0f}",
         rfmt(d['cpu_per_msg'], p['cpu_per_msg'])),
        ("peak RSS (MiB; Postfix: summed)", f"{d['rss_kb'] / 1024:.1f}", f"{p['rss_kb'] / 1024:.1f}",
         rfmt(d['rss_kb'], p['rss_kb'])),
        ("peak PSS (MiB; summed)", f"{d['pss_kb'] / 1024:.1f}", f"{p['pss_kb'] / 1024:.1f}",
         rfmt(d['pss_kb'], p['pss_kb'])),
        ("processes (peak)", f"{d['procs']}", f"{p['procs']}", ""),
    ]
    w0 = max(len(r[0]) for r in rows)
    lines = [f"| {'metric'.ljust(w0)} | device (mta-host) | Postfix 3.7 | device/Postfix |",
             f"|{'-' * (w0 + 2)}|------------------:|------------:|---------------:|"]
    for r in rows:
        lines.append(f"| {r[0].ljust(w0)} | {r[1]:>17} | {r[2]:>11} | {r[3]:>14} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- sweep
CSV_COLS = ["system", "sessions", "size", "n", "delivered", "msgs_per_s", "accept_per_s", "p50_ms", "p99_ms",
            "cpu_us_per_msg", "rss_kb", "pss_kb", "ok"]


def sweep(n, probe_interval):
    rows = []
    for c in SWEEP_C:
        for s in SWEEP_S:
            d, p = host_pair(n, s, c, probe_interval)
            for name, r in (("device", d), ("postfix", p)):
                ok = int(r["src_rc"] == 0 and r["delivered"] >= r["expected"])
                rows.append({"system": name, "sessions": c, "size": s, "n": n, "delivered": r["delivered"],
                             "msgs_per_s": f"{r['msgs_per_s']:.1f}", "accept_per_s": f"{r['accept_per_s']:.1f}",
                             "p50_ms": f"{r['p50_ms']:.2f}", "p99_ms": f"{r['p99_ms']:.2f}",
                             "cpu_us_per_msg": f"{r['cpu_per_msg'] * 1e6:.1f}", "rss_kb": r["rss_kb"],
                             "pss_kb": r["pss_kb"], "ok": ok,
                             "_problems": problems(r, f"{name} C={c} S={s}")})
    csv = os.path.join(OUT, "sweep.csv")
    with open(csv, "w") as f:
        f.write(",".join(CSV_COLS) + "\n")
        for r in rows:
            f.write(",".join(str(r[k]) for k in CSV_COLS) + "\n")
    png = plot_sweep(csv)
    return rows, csv, png


GNUPLOT = """\
set terminal pngcairo size 1400,500 font ',10'
set output '{png}'
{blocks}
set multiplot layout 1,2 title 'Relay sweep: device (mta-host, solid) vs Postfix 3.7 (dashed); N={n} per point; failed runs not plotted'
set logscale x 2
set key left top
set grid
set xtics (1, 5, 20, 50)
set xrange [0.8:64]
set xlabel 'parallel sessions (C)'
set ylabel 'messages/s end to end'
plot {thr}
set xtics (512, 2048, 8192, 65536)
set xrange [400:90000]
set xlabel 'message payload S (bytes)'
set ylabel 'CPU microseconds per message (MTA side)'
set logscale y
plot {cpu}
unset multiplot
"""


def ensure_gnuplot():
    if shutil.which("gnuplot"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("bench: installing gnuplot-nox (apt-get) for the sweep plot")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        argv = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "gnuplot-nox"]
        if subprocess.run(argv, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(argv, env=env, capture_output=True)
    return bool(shutil.which("gnuplot"))


def plot_sweep(csv):
    if not ensure_gnuplot():
        log("bench: gnuplot not found (Debian package gnuplot-nox); CSV written, no plot")
        return None
    import csv as csvmod
    with open(csv) as f:
        rows = [r for r in csvmod.DictReader(f)]
    n = rows[0]["n"] if rows else "?"
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    blocks, thr, cpu = [], [], []

    def series(name, pts, dt, color, title, target):
        if not pts:
            return
        blocks.append(f"${name} << EOD\n" + "\n".join(f"{x} {y}" for x, y in pts) + "\nEOD")
        target.append(f"${name} using 1:2 with linespoints dt {dt} lc rgb '{color}' title '{title}'")

    for i, size in enumerate(SWEEP_S):
        for sysname, dt in (("device", 1), ("postfix", 2)):
            pts = [(r["sessions"], r["msgs_per_s"]) for r in rows
                   if r["system"] == sysname and int(r["size"]) == size and r["ok"] == "1"]
            series(f"thr_{sysname}_{size}", pts, dt, colors[i], f"{sysname} S={size}", thr)
    for i, c in enumerate(SWEEP_C):
        for sysname, dt in (("device", 1), ("postfix", 2)):
            pts = [(r["size"], r["cpu_us_per_msg"]) for r in rows
                   if r["system"] == sysname and int(r["sessions"]) == c and r["ok"] == "1"]
            series(f"cpu_{sysname}_{c}", pts, dt, colors[i], f"{sysname} C={c}", cpu)
    if not thr:
        log("bench: no successful sweep point to plot")
        return None
    png = os.path.join(OUT, "sweep.png")
    gp = os.path.join(OUT, "sweep.gp")
    with open(gp, "w") as f:
        f.write(GNUPLOT.format(png=png, n=n, blocks="\n".join(blocks), thr=", ".join(thr), cpu=", ".join(cpu)))
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        log("bench: gnuplot failed: " + r.stderr[-500:])
        return None
    return png


# ---------------------------------------------------------------- mps2-an385
class Qmp:
    def __init__(self, path):
        deadline = time.monotonic() + 10
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.f = self.s.makefile("rwb")
        self.f.readline()
        self.call("qmp_capabilities")

    def call(self, cmd):
        self.f.write((json.dumps({"execute": cmd}) + "\n").encode())
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(r["error"])

    def icount(self):
        """Instructions executed so far (QEMU's raw icount counter; idle time is not in it)."""
        return self.call("query-replay")["icount"]

    def close(self):
        self.s.close()


def guest_us(dev):
    """(guest microseconds, source): `show cpu` if the firmware has it, else `version` uptime."""
    out = dev.cmd("show cpu")
    m = re.search(r"uptime_us (\d+)", out)
    if m:
        return int(m.group(1)), "show cpu"
    m = re.search(r"uptime: (\d+) s", dev.cmd("version"))
    return int(m.group(1)) * 1_000_000, "version (1 s resolution)"


def mps2_batch(size, store_bytes):
    """Messages per smtp-source batch: what fits in 80% of the RAM store, at most 8."""
    return max(1, min(8, int(0.8 * store_bytes) // (size + 768)))


def mps2_run(n, size, sessions, tmp):
    smtp_port, sh_port = free_port(), free_port()
    sink = BenchSink(sh_port)
    qmp_path = os.path.join(tmp, f"qmp-{size}-{time.monotonic_ns()}.sock")
    argv = qemu_mps2(smtp_port, sh_port, image=MPS2_IMAGE,
                     extra=["-icount", "shift=0", "-qmp", f"unix:{qmp_path},server=on,wait=off"])
    # socat -> smtp-sink without Nagle (",," is an escaped comma for QEMU): otherwise every relayed message waits ~40 ms for a
    # delayed ACK on the host side (a harness artifact, not the device)
    argv = [a.replace(f"TCP:127.0.0.1:{sh_port}", f"TCP:127.0.0.1:{sh_port},,nodelay") for a in argv]
    dev = qmp = None
    try:
        dev = boot(None, argv, name="mps2-an385", timeout=20)  # a fresh flash, removed at kill()
        qmp = Qmp(qmp_path)
        m = re.search(r"store:\s+\d+ of (\d+) bytes", dev.cmd("show stats"))
        batch = mps2_batch(size, int(m.group(1)) if m else 81920)
        # idle baseline: what the main loop costs with nothing to do (SysTick wake-ups)
        time.sleep(0.5)
        g_a, src = guest_us(dev)
        i_a = qmp.icount()
        time.sleep(2.0)
        g_b, _ = guest_us(dev)
        i_b = qmp.icount()
        idle_ipgs = (i_b - i_a) / max(1e-9, (g_b - g_a) / 1e6)  # instructions per guest second when idle
        g0, _ = guest_us(dev)
        i0 = qmp.icount()
        w0 = time.monotonic()
        sent, got, rc, err = 0, 0, 0, b""
        while sent < n:
            b = min(batch, n - sent)
            r = subprocess.run(["smtp-source", "-s", str(min(sessions, b)), "-m", str(b), "-l", str(size),
                                "-f", "load@lan.test", "-t", "sink@example.com", "-M", "client.lan.test",
                                f"127.0.0.1:{smtp_port}"], capture_output=True, timeout=600)
            sent += b
            got = wait_sink(sink.dir, sent, drained=lambda: queue_empty(dev), stall_s=60, cap_s=600)
            if r.returncode != 0 or got < sent:
                rc, err = r.returncode, r.stderr
                break
        w1 = time.monotonic()
        i1 = qmp.icount()
        g1, _ = guest_us(dev)
        stats = parse_stats(dev.cmd("show stats"))
        pools = pool_pressure(dev.cmd("show mem"))
        dev.send("poweroff\r")
        dev.wait_exit(10)
        guest_ns = (g1 - g0) * 1000
        insns = i1 - i0
        idle_guest_ns = max(0, guest_ns - insns)  # icount shift=0: 1 instruction = 1 ns of guest time
        idle_insns = idle_ipgs * idle_guest_ns / 1e9
        return {
            "size": size, "n": n, "sessions": sessions, "batch": batch, "delivered": got, "src_rc": rc,
            "src_err": err.decode("utf-8", "replace").strip()[-400:],
            "clock_src": src, "guest_ns": guest_ns, "insns": insns,
            "guest_ns_per_msg": guest_ns / got if got else float("nan"),
            "insns_per_msg": insns / got if got else float("nan"),
            "busy_insns_per_msg": (insns - idle_insns) / got if got else float("nan"),
            "idle_ipgs": idle_ipgs, "busy_frac": insns / guest_ns if guest_ns else float("nan"),
            "wall_s": w1 - w0, "msgs_per_s": got / (w1 - w0), "stats": stats, "pools": pools,
        }
    finally:
        if qmp:
            qmp.close()
        if dev:
            dev.kill()
        sink.stop()
        shutil.rmtree(sink.dir, ignore_errors=True)
        try:
            os.unlink(qmp_path)
        except OSError:
            pass


def mps2_tls_run(k, size, tmp):
    """TLS cost on the Cortex-M3: instructions for k inbound sessions that each
    submit one message of `size` octets, in plaintext and then with STARTTLS
    (Python's OpenSSL as the client); and for k deliveries to a peer at level
    none and then encrypt (aiosmtpd with STARTTLS as the peer).  The
    differences per session are what TLS adds: the handshake (ECDHE, ECDSA
    signature or verification) plus the record crypto of one message."""
    from tlspeers import TlsAuthPeer, make_ca, make_cert, send_message, smtp_connect, starttls
    pki = tempfile.mkdtemp(prefix="bench-pki-", dir=tmp)
    ca = make_ca(pki, "Bench CA")
    cert = make_cert(pki, ca, "mail.peer.test")
    smtp_port, sh_port = free_port(), free_port()
    peer = TlsAuthPeer(sh_port, cert.cert, cert.key, require_tls=False, require_auth=False)
    qmp_path = os.path.join(tmp, f"qmp-tls-{time.monotonic_ns()}.sock")
    argv = qemu_mps2(smtp_port, sh_port, image=MPS2_IMAGE,
                     extra=["-icount", "shift=0", "-qmp", f"unix:{qmp_path},server=on,wait=off"])
    dev = qmp = None
    body = b"Subject: tls bench\r\n\r\n" + (b"x" * 76 + b"\r\n") * max(1, size // 78)
    res = {}
    try:
        dev = boot(None, argv, name="mps2-an385", timeout=20)  # a fresh flash, removed at kill()
        qmp = Qmp(qmp_path)
        dev.cmd("clock set " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

        def inbound(tls):
            # each message is also relayed (plaintext) to the peer: waited for
            # inside the window, so both phases include the same relay cost
            before = len(peer.messages)
            i0 = qmp.icount()
            for _ in range(k):
                io = smtp_connect("127.0.0.1", smtp_port)
                if tls:
                    reply, io = starttls(io)
                    assert io is not None, reply
                r = send_message(io, "load@lan.test", ["sink@example.com"], body)
                assert r[-1][0].startswith("250"), r
                io.cmd("QUIT")
            peer.wait_count(before + k, 120)
            return qmp.icount() - i0

        def outbound(level):
            dev.cmd(f"peer tls smarthost {level}")
            before = len(peer.messages)
            i0 = qmp.icount()
            for j in range(k):
                io = smtp_connect("127.0.0.1", smtp_port)
                send_message(io, "load@lan.test", ["sink@example.com"], body)
                io.cmd("QUIT")
                poll(lambda: len(peer.messages) >= before + j + 1, 60, 0.02)
            return qmp.icount() - i0, len(peer.messages) - before

        dev.cmd("peer tls smarthost none")
        k_, k = k, 1
        inbound(False)  # warm-up: first connection costs (ARP, listener state)
        k = k_
        res["in_plain"] = inbound(False)
        res["in_tls"] = inbound(True)
        res["out_plain"], got_p = outbound("none")
        res["out_tls"], got_t = outbound("encrypt")
        res["delivered"] = (got_p, got_t)
        res["tls_peer"] = sum(1 for m in peer.messages[-got_t:] if m.tls) if got_t else 0
        m = re.search(r"arena (\d+) bytes: (\d+) in use, peak (\d+)", dev.cmd("show tls"))
        res["arena"] = tuple(int(x) for x in m.groups()) if m else None
        res["k"], res["size"] = k, size
        dev.send("poweroff\r")
        dev.wait_exit(10)
        return res
    finally:
        if qmp:
            qmp.close()
        if dev:
            dev.kill()
        peer.stop()
        shutil.rmtree(pki, ignore_errors=True)


def mps2_tls_table(t):
    k = t["k"]
    lines = [f"| direction (one session = one message submitted and relayed) | plaintext, instructions/session | "
             f"STARTTLS, instructions/session | "
             f"TLS adds per session |", "|---|---:|---:|---:|"]
    for name, a, b in (("inbound (device is the TLS server: x25519 + ECDSA P-256 signature)", t["in_plain"],
                        t["in_tls"]),
                       ("outbound (device is the TLS client: x25519 + ECDSA P-256 verification)", t["out_plain"],
                        t["out_tls"])):
        lines.append(f"| {name} | {a / k:,.0f} | {b / k:,.0f} | {(b - a) / k:,.0f} |")
    lines.append("")
    lines.append(f"{k} sessions each way, one {t['size']}-octet message per session; outbound deliveries "
                 f"{t['delivered'][0]} plaintext and {t['delivered'][1]} over TLS ({t['tls_peer']} seen "
                 f"encrypted by the peer)." + (f" TLS arena after the run: {t['arena'][1]} of {t['arena'][0]} "
                                               f"bytes in use, peak {t['arena'][2]}." if t["arena"] else ""))
    return "\n".join(lines)


def mps2_bench(n, sizes, sessions, runs):
    tmp = tempfile.mkdtemp(prefix="bench-qmp-")
    res = {}
    try:
        for size in sizes:
            for k in range(runs):
                log(f"-- mps2-an385 (QEMU -icount shift=0): N={n} S={size} C={sessions}, run {k + 1}/{runs}")
                r = mps2_run(n, size, sessions, tmp)
                log(f"   delivered {r['delivered']}/{n}, {r['insns_per_msg']:.0f} instructions/msg executed, "
                    f"{r['guest_ns_per_msg']:.0f} guest-ns/msg ({r['clock_src']}), {r['msgs_per_s']:.1f} msg/s wall"
                    + (f"  [smtp-source exit {r['src_rc']}: {r['src_err'].splitlines()[-1]}]" if r["src_rc"] else ""))
                res.setdefault(size, []).append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def spread(vals):
    vals = [v for v in vals if v == v]
    if len(vals) < 2:
        return "n/a"
    m = statistics.mean(vals)
    return f"{(max(vals) - min(vals)) / m * 100:.2f}%" if m else "n/a"


def mps2_table(res):
    lines = ["| S (bytes) | msgs | instructions/msg (executed, QMP icount) | excl. idle-loop wake-ups | "
             "guest time/msg (ns = insns incl. idle) | busy fraction | msgs/s (wall, emulated) | "
             "run-to-run spread (executed) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, runs in res.items():
        insns = statistics.mean(x["insns_per_msg"] for x in runs)
        busy = statistics.mean(x["busy_insns_per_msg"] for x in runs)
        gns = statistics.mean(x["guest_ns_per_msg"] for x in runs)
        bf = statistics.mean(x["busy_frac"] for x in runs)
        mps = statistics.mean(x["msgs_per_s"] for x in runs)
        lines.append(f"| {size} | {'/'.join(str(x['delivered']) for x in runs)} | {insns:,.0f} | {busy:,.0f} | "
                     f"{gns:,.0f} | {bf:.2f} | {mps:.1f} | "
                     f"{spread([x['insns_per_msg'] for x in runs])} (guest time: "
                     f"{spread([x['guest_ns_per_msg'] for x in runs])}) |")
    pts = [(size, statistics.mean(x["insns_per_msg"] for x in runs)) for size, runs in res.items()
           if all(x["delivered"] for x in runs)]
    if len(pts) >= 2:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        b = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x in xs)
        a = my - b * mx
        worst = max(abs(y - (a + b * x)) / y for x, y in pts)
        lines.append(f"\nLinear fit of executed instructions per message: {a:,.0f} + {b:.1f} x S "
                     f"(S = payload octets; largest deviation from the fit {worst * 100:.1f}%).")
        pts.sort()
        steps = [f"{x0} -> {x1}: {(y1 - y0) / (x1 - x0):.1f}" for (x0, y0), (x1, y1) in zip(pts, pts[1:])]
        lines.append("Per-octet slope between sizes (instructions per added payload octet): "
                     + "; ".join(steps) + ".")
    return "\n".join(lines)


# ---------------------------------------------------------------- report
def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ver = lambda argv: (subprocess.run(argv, capture_output=True, text=True).stdout or "?").splitlines()[0]  # noqa
    return {"nproc": os.cpu_count(), "model": model, "kernel": platform.release(),
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "postfix": subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True,
                                      text=True).stdout.strip(),
            "qemu": ver(["qemu-system-arm", "--version"]),
            "git": subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                                  text=True).stdout.strip()}


def footprint():
    lines = []
    for img, tool in ((MPS2_IMAGE, "arm-none-eabi-size"), (HOST_IMAGE, "size")):
        if os.path.exists(img) and shutil.which(tool):
            out = subprocess.run([tool, img], capture_output=True, text=True).stdout.splitlines()
            if len(out) >= 2:
                t, d, b = (int(x) for x in out[1].split()[:3])
                lines.append(f"| {os.path.relpath(img, ROOT)} | {t / 1024:.1f} | {d / 1024:.1f} | {b / 1024:.1f} |")
    if not lines:
        return ""
    return ("| image | text KiB | data KiB | bss KiB |\n|---|---:|---:|---:|\n" + "\n".join(lines) +
            "\n\n(static footprint; the host image's bss holds the 8 MiB RAM store and the 256 KiB lwIP heap "
            "of boards/host/board_opts.h; `make size` gives the per-module split.)")


def write_results(md, board):
    """build/bench/results-BOARD.md for this run; results.md = all boards' latest results."""
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"results-{board}.md"), "w") as f:
        f.write(md)
    parts = []
    for b in ("host", "mps2-an385"):
        try:
            with open(os.path.join(OUT, f"results-{b}.md")) as f:
                parts.append(f.read())
        except OSError:
            pass
    path = os.path.join(OUT, "results.md")
    with open(path, "w") as f:
        f.write("\n".join(parts))
    return path


METHOD_HOST = """\
Method (details in tests/bench/README.md): both systems run in one private network namespace.
smtp-source (Postfix's load generator) sends N messages of S payload octets over C parallel
sessions, one message per connection; the device (mta-host on a TAP, 192.0.2.2) and Postfix
(127.0.0.1:{pf_port}, own config and queue directories, relayhost = its own smtp-sink) each relay
to an smtp-sink that writes one file per message into a tmpfs directory (on ext4 smtp-sink
itself tops out near 3000 msgs/s here).  Arrival at the sink = inotify IN_CLOSE_WRITE of that
file, timestamped by the benchmark (file mtimes come from the coarse clock, 4-8 ms steps).
- msgs/s end to end: messages at the sink / (last arrival - smtp-source start).
- msgs/s accepted: messages / time until smtp-source exits (every 250 received).
- latency: during the load a probe client sends messages of the same size, one session at a
  time, at most one every {pi:.0f} ms (header X-Bench-Probe); latency = arrival at the sink - the
  moment the probe had sent the final ".".  Probe messages are included in the counts.
  "Unloaded": 20 probes before the load, nothing else running.  An MTA that accepts faster
  than it relays builds a queue, and its latency under load is then mostly time in the queue.
- CPU: user+system time from /proc.  Device: the mta-host process (schedstat, ns).  Postfix:
  master + live descendants + what master reaped from exited children (cutime+cstime), the
  difference of quiet snapshots before and after the load.  Load generator, sinks and kernel
  softirq work are not counted for either side.
- peak RSS: device VmHWM; Postfix: peak of the summed VmRSS of its processes (sampled every
  0.2 s; shared pages counted once per process).  PSS: the same with Pss (shared pages split
  between processes), for both.
"""

METHOD_MPS2 = """\
Method: QEMU mps2-an385 with `-icount shift=0` (guest clock = 1 ns per executed instruction)
and user networking: smtp-source -> 127.0.0.1 (hostfwd) -> device -> 10.0.2.100:25 (guestfwd,
socat with TCP_NODELAY) -> smtp-sink on 127.0.0.1.  A fresh QEMU per run.  smtp-source runs in
batches of {batch} messages (bounded by what fits in 80% of the store) and the next batch starts
when the sink has the previous one: smtp-source gives up at the first 452, and the device
accepts far faster than it relays, so one unpaced run stops once the store is full.
- instructions/msg (executed): QEMU's raw instruction counter (QMP `query-replay` icount),
  delta over the run / messages relayed.  Only executed guest instructions count; the console
  is not used during the run.
- guest time/msg: delta of the guest clock read with `{clk}` / messages.  With icount the guest
  clock also runs while the CPU sleeps in WFI (QEMU advances it with real time), so this counts
  idle time and depends on the host; busy fraction = executed instructions / guest ns.
- excl. idle-loop wake-ups: executed instructions minus the idle main loop's cost (measured for
  2 s before the load: {idle:,.0f} instructions per guest second of idle) times the idle guest time.
- msgs/s: messages / wall-clock time of the run, in emulation, including the batch pauses.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--board", default=os.environ.get("BOARD", "host"))
    ap.add_argument("--n", type=int, default=None, help="messages per run (host 5000, mps2-an385 200)")
    ap.add_argument("--size", type=int, default=None, help="payload octets (host 2048; mps2-an385: 512,2048,8192)")
    ap.add_argument("--sessions", type=int, default=None, help="parallel sessions (host 20, mps2-an385 1)")
    ap.add_argument("--sweep", action="store_true", help="host: C in 1,5,20,50 x S in 512..65536")
    ap.add_argument("--sweep-n", type=int, default=1000, help="messages per sweep point")
    ap.add_argument("--probe-interval", type=float, default=0.005, help="seconds between latency probes")
    ap.add_argument("--runs", type=int, default=2, help="mps2-an385: runs per size (variance)")
    ap.add_argument("--host-image", default=None, help="host board binary (default build/host/mta-host)")
    ap.add_argument("--mps2-image", default=None, help="mps2-an385 image (default build/mps2-an385/mta.elf)")
    ap.add_argument("--command", default=None, help="the command line to record in results.md")
    a = ap.parse_args()
    global HOST_IMAGE, MPS2_IMAGE
    HOST_IMAGE = os.path.abspath(a.host_image or HOST_IMAGE)
    MPS2_IMAGE = os.path.abspath(a.mps2_image or MPS2_IMAGE)
    os.makedirs(OUT, exist_ok=True)
    mach = machine()
    cmd = a.command or " ".join([sys.executable] + sys.argv)
    head = (f"# Relay benchmark ({a.board})\n\n"
            f"- machine: {mach['nproc']} CPUs, {mach['model']}, Linux {mach['kernel']}\n"
            f"- date: {mach['date']}; tree: {mach['git']}; Postfix {mach['postfix']}; {mach['qemu']}\n"
            f"- load average at start: {open('/proc/loadavg').read().split()[0:3]} (other jobs on this machine "
            "add noise; repeat runs to see it)\n"
            f"- command: `{cmd}`\n\n")
    t_start = time.monotonic()
    probs = []

    if a.board == "host":
        if not os.path.exists(HOST_IMAGE):
            sys.exit(f"bench: {HOST_IMAGE} missing -- make BOARD=host")
        n, size, c = a.n or 5000, a.size or 2048, a.sessions or 20
        if c + 1 > 32:
            log(f"bench: note: C={c} plus the probe exceeds the host board's 32-session pool "
                "(boards/host/board_opts.h SMTPD_MAX_SESSIONS): expect 421 4.3.2 and smtp-source to stop")
        d, p = host_pair(n, size, c, a.probe_interval)
        probs += problems(d, "device") + problems(p, "postfix")
        with open(os.path.join(OUT, "raw-host.json"), "w") as f:
            json.dump({"device": d, "postfix": p}, f, indent=1)
        table = host_table(d, p)
        md = head + f"## Host board vs Postfix: N={n}, S={size}, C={c}\n\n{table}\n\n"
        md += DURABILITY.format(fs=p.get("queue_fs", "?")) + "\n\n"
        md += METHOD_HOST.format(pf_port=PF_PORT, pi=a.probe_interval * 1000) + "\n"
        if a.sweep:
            rows, csv, png = sweep(a.sweep_n, a.probe_interval)
            for r in rows:
                probs += r["_problems"]
            md += (f"## Sweep (N={a.sweep_n} per point)\n\n"
                   "| system | C | S | delivered | msgs/s | accepted/s | p50 ms | p99 ms | CPU us/msg | "
                   "RSS KiB | PSS KiB | ok |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
            for r in rows:
                md += (f"| {r['system']} | {r['sessions']} | {r['size']} | {r['delivered']} | {r['msgs_per_s']} | "
                       f"{r['accept_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {r['cpu_us_per_msg']} | "
                       f"{r['rss_kb']} | {r['pss_kb']} | {'yes' if r['ok'] else 'FAILED'} |\n")
            md += f"\nCSV: `{os.path.relpath(csv, ROOT)}`" + (f", plot: `{os.path.relpath(png, ROOT)}`" if png else
                                                             " (no plot: gnuplot missing)") + "\n\n"
    elif a.board == "mps2-an385":
        if not os.path.exists(MPS2_IMAGE):
            sys.exit(f"bench: {MPS2_IMAGE} missing -- make")
        n, c = a.n or 200, a.sessions or 1
        sizes = (a.size,) if a.size else MPS2_SIZES
        res = mps2_bench(n, sizes, c, a.runs)
        for size, runs in res.items():
            for i, r in enumerate(runs):
                w = f"mps2 S={size} run {i + 1}"
                if r["src_rc"]:
                    probs.append(f"{w}: smtp-source exited {r['src_rc']}: " + " | ".join(r["src_err"].splitlines()[-2:]))
                if r["delivered"] < n:
                    probs.append(f"{w}: {r['delivered']} of {n} at the sink")
                st = r["stats"]
                if st.get("busy"):
                    probs.append(f"{w}: {st['busy']} sessions refused busy")
                if st.get("rej_queue"):
                    probs.append(f"{w}: {st['rej_queue']} refused queue full (452)")
                if st.get("deferrals"):
                    probs.append(f"{w}: {st['deferrals']} deferrals")
                if r["pools"]:
                    probs.append(f"{w}: pools at their limit: " + "; ".join(r["pools"]))
        first = next(iter(res.values()))[0]
        md = head + f"## mps2-an385 (Cortex-M3) in QEMU: N={n}, C={c}, {a.runs} runs per size\n\n"
        md += mps2_table(res) + "\n\n"
        md += METHOD_MPS2.format(clk=first["clock_src"], idle=first["idle_ipgs"],
                                 batch="/".join(f"{runs[0]['batch']} (S={sz})" for sz, runs in res.items())) + "\n"
        md += ("Durability: the device queues on its flash store (a semihosted 1 MiB NOR image): every "
               "message's commit record is on flash before its 250.\n\n")
        tmp = tempfile.mkdtemp(prefix="bench-tls-")
        try:
            log("-- mps2-an385 TLS cost: 20 sessions each way, plaintext vs STARTTLS")
            t = mps2_tls_run(20, 2048, tmp)
            md += "## TLS cost on mps2-an385 (QEMU -icount, executed instructions)\n\n" + mps2_tls_table(t) + "\n\n"
            if t["delivered"] != (20, 20):
                probs.append(f"mps2 TLS: delivered {t['delivered']} of (20, 20)")
        except Exception as e:  # the relay figures above still stand
            probs.append(f"mps2 TLS cost run failed: {e}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        sys.exit(f"bench: unknown board {a.board}")

    fp = footprint()
    if fp:
        md += "## Static footprint\n\n" + fp + "\n\n"
    md += "## Problems and limits seen in this run\n\n" + ("\n".join(f"- {x}" for x in probs) if probs else
                                                           "- none") + "\n"
    md += f"\n(benchmark wall time {time.monotonic() - t_start:.0f} s)\n"
    path = write_results(md, a.board)
    print()
    print(md)
    log(f"bench: wrote {os.path.relpath(path, ROOT)} (this run: results-{a.board}.md)")


if __name__ == "__main__":
    main()
