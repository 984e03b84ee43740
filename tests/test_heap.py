"""The watcher's heap (heap.py): malloc's map threshold fixed, so freed large blocks go back to the system."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from countnight import cli_common
from countnight.heap import keep_heap_small

GLIBC = platform.libc_ver()[0] == "glibc"

# A child that frees a 4 MB block (glibc would then serve blocks up to 4 MB from its heap) and then makes and
# frees blocks of 1 MB beside live small objects: with the threshold fixed they are maps, returned on free.
CHILD = r"""
import sys
from countnight.heap import keep_heap_small

def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

if sys.argv[1] == "fixed":
    assert keep_heap_small()
block = bytearray(4 << 20)
del block
before = rss_kb()
keep = []
for i in range(200):
    big = bytearray(1 << 20)
    big[::4096] = b"x" * len(big[::4096])
    keep.append(bytes(64))  # a small object allocated after each block: it pins the heap's top
    del big
print(rss_kb() - before)
"""


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_the_threshold_is_fixed_and_freed_blocks_leave_the_heap(tmp_path: Path) -> None:
    def grown(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
        return int(done.stdout.strip())

    fixed, default = grown("fixed"), grown("default")
    assert fixed < 256, fixed  # kB: each block went back to the system as it was freed
    assert default > fixed + 512, (default, fixed)  # without it, glibc kept a block's worth in its heap
    assert keep_heap_small() is True


def test_a_watching_command_keeps_its_heap_small_and_a_one_off_build_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(cli_common, "keep_heap_small", lambda: calls.append(True) or True)
    (tmp_path / "entries").mkdir()
    cli_common.site(tmp_path, None)
    assert calls == []
    cli_common.site(tmp_path, None, watching=True)
    assert calls == [True]
