#!/bin/sh
# make deps: install what is missing, from Debian bookworm only.
#
#  1. apt packages (toolchain, QEMU, test tools), installed only when missing.
#  2. lwIP and mbedTLS *source* packages at pinned Debian versions, fetched
#     with `apt-get source` through a private apt configuration under the
#     cache directory.  Its deb-src entries are derived from the URIs this
#     machine's own apt sources already use, so no host is named here; apt
#     verifies the Sources index against the archive's signed Release file
#     and every downloaded file against the index.
#
# Idempotent: when everything is present it only checks stamps (well under a
# second).  On failure it prints ONE line saying what is missing and how to
# fix it, and exits non-zero.
set -eu

CACHE=${DEPS_CACHE:-.cache/deps}
LWIP_VER=2.1.3+dfsg1-2
MBEDTLS_VER=2.28.3-1

# Packages: name of a file each one provides (cheap presence test) -> package.
PKGS="
/usr/bin/arm-none-eabi-gcc:gcc-arm-none-eabi
/usr/lib/arm-none-eabi/newlib/libc.a:libnewlib-arm-none-eabi
/usr/bin/qemu-system-arm:qemu-system-arm
/usr/bin/socat:socat
/usr/bin/swaks:swaks
/usr/share/doc/libnet-ssleay-perl/copyright:libnet-ssleay-perl
/usr/sbin/smtp-sink:postfix
/usr/sbin/smtp-source:postfix
/usr/bin/tshark:tshark
/usr/bin/tcpdump:tcpdump
/usr/include/cmocka.h:libcmocka-dev
/usr/lib/python3/dist-packages/pytest/__init__.py:python3-pytest
/usr/bin/dpkg-source:dpkg-dev
/usr/bin/gcc:gcc
/usr/bin/make:make
/usr/sbin/ip:iproute2
/usr/bin/gnuplot:gnuplot-nox
/usr/lib/python3/dist-packages/aiosmtpd/__init__.py:python3-aiosmtpd
/usr/bin/openssl:openssl
/usr/bin/clang:clang
/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev
/usr/bin/llvm-profdata:llvm
/usr/bin/llvm-cov:llvm
"

die() { echo "deps: $*" >&2; exit 1; }

missing=""
for e in $PKGS; do
    f=${e%%:*}; p=${e#*:}
    [ -e "$f" ] || case " $missing " in *" $p "*) ;; *) missing="$missing $p";; esac
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        SUDO=sudo
        command -v sudo >/dev/null 2>&1 || die "missing packages:$missing -- run as root: apt-get install$missing"
    else
        SUDO=
    fi
    echo "deps: installing:$missing"
    # postfix asks questions at install time; we only use its binaries.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
        die "apt-get update failed -- check the apt sources of this machine"
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections 2>/dev/null || true
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null ||
        die "apt-get install$missing failed -- install them by hand"
fi

fetch_src() { # name version dir
    name=$1; ver=$2; dir=$3
    [ -f "$CACHE/$dir/.stamp-$ver" ] && return 0
    apt_dir=$(cd "$CACHE" && pwd)/apt
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/src"
    # deb-src lines from the URIs and suites this machine already uses
    # (deb822 .sources files and one-line .list files both understood).
    {
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            awk '
              function flush() { if (u != "" && s != "" && t ~ /deb/) { n = split(s, ss, " "); for (i = 1; i <= n; i++) print "deb-src " kr u " " ss[i] " " c }; u = s = c = t = kr = "" }
              /^[ \t]*$/ { flush(); next }
              /^Types:/ { t = $0 }
              /^URIs:/ { u = $2 }
              /^Suites:/ { s = ""; for (i = 2; i <= NF; i++) s = s " " $i }
              /^Components:/ { c = ""; for (i = 2; i <= NF; i++) c = c " " $i }
              /^Signed-By:/ { kr = "[signed-by=" $2 "] " }
              END { flush() }' "$f"
        done
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" { $1 = "deb-src"; print }'
    } | grep -E ' (bookworm|bookworm-updates|bookworm-security)( |$)' | sort -u > "$apt_dir/sources.list"
    [ -s "$apt_dir/sources.list" ] || die "no bookworm apt source found in /etc/apt -- configure a Debian bookworm mirror"
    APTOPT="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache::Archives=$apt_dir/archives -o Debug::NoLocking=1"
    # shellcheck disable=SC2086
    if [ ! -f "$apt_dir/lists/.updated" ]; then
        apt-get $APTOPT -q update >"$apt_dir/update.log" 2>&1 ||
            die "cannot read the source index (see $apt_dir/update.log) -- check network access to this machine's apt mirror"
        touch "$apt_dir/lists/.updated"
    fi
    ( cd "$apt_dir/src" && apt-get $APTOPT -q source --download-only "$name=$ver" >"$apt_dir/source-$name.log" 2>&1 ) ||
        die "cannot fetch Debian source package $name=$ver (see $apt_dir/source-$name.log)"
    rm -rf "$CACHE/$dir"
    dpkg-source --no-check -x "$apt_dir/src/${name}_${ver}.dsc" "$CACHE/$dir" >/dev/null 2>&1 ||
        die "cannot unpack $name $ver into $CACHE/$dir"
    touch "$CACHE/$dir/.stamp-$ver"
    echo "deps: $name $ver source unpacked in $CACHE/$dir"
}

mkdir -p "$CACHE"
fetch_src lwip "$LWIP_VER" lwip
fetch_src mbedtls "$MBEDTLS_VER" mbedtls
