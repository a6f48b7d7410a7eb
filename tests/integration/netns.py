"""A private network namespace with one TAP device for the host board.

Everything the host-board tests send stays inside this namespace: the TAP
device's far side is the device (mta-host), the near side has the peer MTAs.
"""
import os
import subprocess


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


class Netns:
    def __init__(self, name):
        self.name = name
        self.taps = []
        sh("ip", "netns", "add", name)
        sh("ip", "-n", name, "link", "set", "lo", "up")

    def add_tap(self, tap, addr_prefix):
        sh("ip", "-n", self.name, "tuntap", "add", "dev", tap, "mode", "tap")
        sh("ip", "-n", self.name, "addr", "add", addr_prefix, "dev", tap)
        sh("ip", "-n", self.name, "link", "set", tap, "up")
        self.taps.append(tap)

    def argv(self, *argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def can_use_netns():
    return os.geteuid() == 0 and os.path.exists("/dev/net/tun")
