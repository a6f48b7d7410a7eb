#!/usr/bin/python3
"""make test / every build: hold firmware/, port/ and drivers/ to their layers.

Each folder's README.md has one line

    May include: TOKEN, TOKEN, ...

and every `#include "..."` in the folder's .c and .h files must resolve to
the folder itself or to one of its tokens:

    lib, evt, queue, ...   a firmware/ folder (any of its headers)
    queue/queue.h          one header of a firmware folder
    include                firmware/include: board.h, options, version, asserts
    lwip                   lwIP headers (lwip/, netif/, arch/, lwipopts.h)
    mbedtls                mbedTLS headers (mbedtls/)
    flash                  the NOR flash contract drivers/flash/flash.h
    drivers                any driver header (drivers/<driver>/...)
    port                   port/ headers (ethif.h, nexthop.h, port_hooks.h, ...)

System headers (<...>) are libc and always allowed. An include that resolves
nowhere is an error too, so a rule cannot be side-stepped with "../x.h".
Then the include graph between firmware modules (file stems) must have no
cycle. Exit status 1 and one line per violation on failure.
"""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FW = os.path.join(ROOT, "firmware")
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LWIP_PREFIXES = ("lwip/", "netif/", "arch/")
LWIP_FILES = ("lwipopts.h",)
GENERATED = ("build_epoch.h",)  # written by the Makefile into build/<board>/gen, part of include


def folders():
    """(label, path, is_firmware) for every folder that carries a rule."""
    out = []
    for d in sorted(os.listdir(FW)):
        p = os.path.join(FW, d)
        if os.path.isdir(p):
            out.append((d, p, True))
    out.append(("port", os.path.join(ROOT, "port"), False))
    for d in sorted(os.listdir(os.path.join(ROOT, "drivers"))):
        p = os.path.join(ROOT, "drivers", d)
        if os.path.isdir(p):
            out.append(("drivers/" + d, p, False))
    return out


def rule_of(path):
    readme = os.path.join(path, "README.md")
    if not os.path.exists(readme):
        return None
    for line in open(readme, encoding="utf-8"):
        m = re.match(r"\s*May include:\s*(.*)$", line)
        if m:
            toks = [t.strip().strip("`") for t in m.group(1).split(",")]
            return {t.split()[0] for t in toks if t and t.split()[0] not in ("nothing", "libc")}
    return None


def sources(path):
    for dp, _, fs in os.walk(path):
        for f in sorted(fs):
            if f.endswith((".c", ".h")):
                yield os.path.join(dp, f)


def classify(inc, here):
    """What an include names: (token, module stem or None)."""
    if "/" not in inc and os.path.exists(os.path.join(here, inc)):
        return "self", os.path.splitext(inc)[0]
    if inc.startswith(LWIP_PREFIXES) or inc in LWIP_FILES:
        return "lwip", None
    if inc.startswith("mbedtls/") or inc == "mbedtls_config.h":
        return "mbedtls", None
    if inc in GENERATED or "/" not in inc and os.path.exists(os.path.join(FW, "include", inc)):
        return "include", os.path.splitext(inc)[0]
    if "/" not in inc and os.path.exists(os.path.join(ROOT, "port", inc)):
        return "port", None
    first, _, rest = inc.partition("/")
    if rest and os.path.exists(os.path.join(FW, first, rest)):
        return first, os.path.splitext(rest)[0]
    if inc == "flash/flash.h":
        return "flash", None
    if rest and os.path.exists(os.path.join(ROOT, "drivers", first, rest)):
        return "drivers", None
    return None, None


def main():
    errors = []
    graph = {}
    for label, path, is_fw in folders():
        rule = rule_of(path)
        rel_dir = os.path.relpath(path, ROOT)
        if rule is None:
            errors.append(f"{rel_dir}/README.md: no 'May include:' line")
            continue
        for src in sources(path):
            rel = os.path.relpath(src, ROOT)
            stem = os.path.splitext(os.path.basename(src))[0]
            text = open(src, encoding="utf-8").read()
            for n, line in enumerate(text.splitlines(), 1):
                m = INC.match(line)
                if not m:
                    continue
                inc = m.group(1)
                tok, mod = classify(inc, os.path.dirname(src))
                if tok is None:
                    errors.append(f"{rel}:{n}: #include \"{inc}\" resolves to no known folder")
                    continue
                if is_fw and tok == label:
                    tok = "self"
                ok = tok == "self" or tok in rule or (inc in rule)
                if tok == "self" and label.startswith("drivers/"):
                    ok = True
                if not ok:
                    errors.append(f"{rel}:{n}: #include \"{inc}\": {rel_dir} may include only "
                                  f"{', '.join(sorted(rule)) or 'libc'} (its README.md)")
                if is_fw and mod is not None:
                    dst = f"{label}/{mod}" if tok == "self" else f"{tok}/{mod}"
                    src_mod = f"{label}/{stem}"
                    if dst != src_mod:
                        graph.setdefault(src_mod, set()).add(dst)
    # Cycles between modules (a .c and its .h are one module).
    state = {}
    stack = []

    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                cyc = stack[stack.index(w):] + [w]
                errors.append("include cycle: " + " -> ".join(cyc))
            elif w not in state:
                visit(w)
        stack.pop()
        state[v] = 2

    for v in sorted(graph):
        if v not in state:
            visit(v)
    for e in errors:
        print("check_layers: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
