#!/usr/bin/python3
"""Bridge a SLIP serial line (QEMU chardev unix socket) to a Linux TUN device.

The host kernel has no SLIP driver, so the far end of the device's sl0 link is
this userspace bridge: SLIP frames from the socket become IP packets on the
TUN device, and packets routed to the TUN device are SLIP-encoded back.  Run it
inside a network namespace made for the test, so the link's packets stay
there:

  ip netns exec NS slip_tun.py --socket PATH --tun tun0 --addr 172.31.0.1 --peer 172.31.0.2
"""
import argparse
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def slip_encode(pkt):
    out = bytearray([END])
    for b in pkt:
        if b == END:
            out += bytes([ESC, ESC_END])
        elif b == ESC:
            out += bytes([ESC, ESC_ESC])
        else:
            out.append(b)
    out.append(END)
    return bytes(out)


class SlipDecoder:
    def __init__(self):
        self.buf = bytearray()
        self.esc = False

    def feed(self, data):
        pkts = []
        for b in data:
            if self.esc:
                self.buf.append(END if b == ESC_END else ESC if b == ESC_ESC else b)
                self.esc = False
            elif b == ESC:
                self.esc = True
            elif b == END:
                if self.buf:
                    pkts.append(bytes(self.buf))
                self.buf = bytearray()
            else:
                self.buf.append(b)
                if len(self.buf) > 65535:
                    self.buf = bytearray()  # garbage: resynchronise on the next END
        return pkts


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--tun", default="tun0")
    ap.add_argument("--addr", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--connect-timeout", type=float, default=10.0)
    a = ap.parse_args()
    tun = open_tun(a.tun)
    subprocess.run(["ip", "addr", "add", a.addr, "peer", a.peer, "dev", a.tun], check=True)
    subprocess.run(["ip", "link", "set", a.tun, "up"], check=True)
    deadline = time.monotonic() + a.connect_timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(a.socket)
            break
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                sys.exit(f"slip_tun: cannot connect to {a.socket}")
            time.sleep(0.05)
    print("slip_tun: up", flush=True)
    dec = SlipDecoder()
    while True:
        r, _, _ = select.select([s, tun], [], [])
        if s in r:
            data = s.recv(65536)
            if not data:
                return  # QEMU went away
            for pkt in dec.feed(data):
                if pkt and (pkt[0] >> 4) == 4:
                    os.write(tun, pkt)
        if tun in r:
            pkt = os.read(tun, 65536)
            if pkt and (pkt[0] >> 4) == 4:  # IPv4 only, like the device
                s.sendall(slip_encode(pkt))


if __name__ == "__main__":
    main()
