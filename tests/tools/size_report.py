#!/usr/bin/python3
"""make size: flash and RAM use of a firmware image, split by origin.

Reads the GNU ld map file (the only place that knows which object each input
section came from), sums .text/.rodata/.data/.bss per object, and prints:
  1. the split firmware / drivers+board / port / lwIP / mbedTLS / toolchain libs,
     with flash = text + rodata + data(load image) and RAM = data + bss (+ stack),
     against the board budget;
  2. a per-module table (written to --out as well).
Exits non-zero when the image is over budget (the linker script also refuses).
"""
import argparse
import re
import sys

KINDS = ("text", "rodata", "data", "bss")


def classify_section(out_sec):
    if out_sec in (".text", ".isr_vector", ".ARM.exidx", ".ARM.extab", ".init", ".fini",
                   ".plt", ".plt.got", ".plt.sec"):
        return "text"
    if out_sec in (".rodata", ".eh_frame", ".eh_frame_hdr", ".gcc_except_table"):
        return "rodata"
    if out_sec in (".data", ".init_array", ".fini_array", ".got", ".got.plt", ".data.rel.ro"):
        return "data"
    if out_sec in (".bss", ".noinit", ".tbss"):
        return "bss"
    return None


def group_of(path):
    p = path.replace("\\", "/")
    if "/obj/firmware/" in p:
        return "firmware"
    if "/obj/drivers/" in p or "/obj/boards/" in p:
        return "drivers"
    if "/obj/port/" in p:
        return "port"
    if "/obj/deps/lwip/" in p:
        return "lwIP"
    if "/obj/deps/mbedtls/" in p:
        return "mbedTLS"
    return "libc/libgcc"


def module_of(path):
    p = path.replace("\\", "/")
    m = re.search(r"/obj/(.*)\.o$", p)
    if m:
        return m.group(1).replace("deps/", "")
    m = re.search(r"([^/]+\.a)\(([^)]+)\)", p)
    if m:
        return m.group(1)
    return p.rsplit("/", 1)[-1]


def parse_map(path):
    sizes = {}  # module -> {kind: bytes}
    groups = {}
    out_sec = None
    in_map = False
    pending = None
    stack = 0
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("Linker script and memory map"):
                in_map = True
                continue
            if not in_map:
                continue
            m = re.match(r"^(\.[A-Za-z0-9_.]+)\s*(0x[0-9a-f]+)?\s*(0x[0-9a-f]+)?", line)
            if m and not line.startswith(" "):
                out_sec = m.group(1)
                continue
            m = re.search(r"__stack_size\s*=\s*(0x[0-9a-f]+|\d+)", line)
            if m and stack == 0:
                try:
                    stack = int(m.group(1), 0)
                except ValueError:
                    pass
            if pending is not None:
                m = re.match(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$", line)
                pending = None
                if m:
                    add(sizes, groups, out_sec, int(m.group(2), 16), m.group(3))
                continue
            m = re.match(r"^ (\.[^\s]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$", line)
            if m:
                add(sizes, groups, out_sec, int(m.group(3), 16), m.group(4))
                continue
            m = re.match(r"^ (\.[^\s]+|COMMON)$", line)
            if m:
                pending = m.group(1)
    return sizes, groups, stack


def add(sizes, groups, out_sec, size, obj):
    kind = classify_section(out_sec or "")
    if kind is None or size == 0 or obj.startswith("load address"):
        return
    mod = module_of(obj)
    sizes.setdefault(mod, dict.fromkeys(KINDS, 0))[kind] += size
    groups.setdefault(group_of(obj), dict.fromkeys(KINDS, 0))[kind] += size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--board", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("--elf")
    ap.add_argument("--flash-budget", type=int, required=True)
    ap.add_argument("--ram-budget", type=int, required=True)
    ap.add_argument("--out")
    a = ap.parse_args()
    sizes, groups, stack = parse_map(a.map)
    lines = []
    lines.append(f"size report for {a.board} ({a.map})")
    lines.append(f"{'origin':<14}{'flash':>10}{'RAM':>10}   (flash = text+rodata+data, RAM = data+bss)")
    tf = tr = 0
    for g in ("firmware", "drivers", "port", "lwIP", "mbedTLS", "libc/libgcc"):
        s = groups.get(g, dict.fromkeys(KINDS, 0))
        fl = s["text"] + s["rodata"] + s["data"]
        ram = s["data"] + s["bss"]
        tf += fl
        tr += ram
        lines.append(f"{g:<14}{fl:>10}{ram:>10}")
    if stack:
        lines.append(f"{'stack':<14}{0:>10}{stack:>10}")
        tr += stack
    lines.append(f"{'total':<14}{tf:>10}{tr:>10}")
    lines.append(f"{'budget':<14}{a.flash_budget:>10}{a.ram_budget:>10}")
    lines.append(f"{'use':<14}{100.0 * tf / a.flash_budget:>9.1f}%{100.0 * tr / a.ram_budget:>9.1f}%")
    # What TLS and AUTH cost, across groups: mbedTLS itself and the modules
    # that exist only for it (the session arena is tls's .bss).
    tls_mods = ("firmware/console/cmd_tls", "firmware/console/cmd_auth", "firmware/route/peertls", "firmware/lib/sasl")
    tfl = tram = 0
    for mod, s in sizes.items():
        if mod.startswith(("mbedtls/", "firmware/tls/")) or mod in tls_mods:
            tfl += s["text"] + s["rodata"] + s["data"]
            tram += s["data"] + s["bss"]
    lines.append(f"{'of which TLS':<14}{tfl:>10}{tram:>10}   (mbedTLS + firmware/tls/, cmd_tls, cmd_auth, peertls, sasl; "
                 f"RAM includes the session arena)")
    lines.append("")
    lines.append(f"{'module':<40}{'.text':>9}{'.rodata':>9}{'.data':>8}{'.bss':>9}")
    for mod in sorted(sizes, key=lambda m: (group_order(m), m)):
        s = sizes[mod]
        lines.append(f"{mod:<40}{s['text']:>9}{s['rodata']:>9}{s['data']:>8}{s['bss']:>9}")
    text = "\n".join(lines)
    print("\n".join(lines[:13 if stack else 12]))
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
        print(f"(per-module table: {a.out})")
    over = tf > a.flash_budget or tr > a.ram_budget
    if over:
        print(f"size: {a.board} is OVER its budget", file=sys.stderr)
        return 1
    return 0


def group_order(mod):
    for i, p in enumerate(("firmware/", "drivers/", "boards/", "port/", "lwip/", "mbedtls/")):
        if mod.startswith(p):
            return i
    return 9


if __name__ == "__main__":
    sys.exit(main())
