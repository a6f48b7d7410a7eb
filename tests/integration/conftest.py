import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from device import Device, free_port, qemu_mps2  # noqa: E402


@pytest.fixture
def mps2():
    """A freshly booted mps2-an385 in QEMU, at its prompt."""
    smtp_port, smarthost_port = free_port(), free_port()
    dev = Device(qemu_mps2(smtp_port, smarthost_port), name="mps2-an385")
    dev.smtp_port = smtp_port
    dev.smarthost_port = smarthost_port
    try:
        dev.expect(r"mta> ", timeout=10)
        yield dev
    finally:
        dev.kill()
