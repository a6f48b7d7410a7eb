import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from helpers import boot  # noqa: E402


@pytest.fixture
def mps2(tmp_path):
    """A freshly booted mps2-an385 in QEMU, at its prompt (its flash in tmp_path)."""
    dev = boot(tmp_path, timeout=10)
    try:
        yield dev
    finally:
        dev.kill()
