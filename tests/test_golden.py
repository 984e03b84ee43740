"""The golden site: the sample night built with a fixed clock, compared file by file with tests/golden/.

After a deliberate change to the output, regenerate it with ``make golden`` (which sets
COUNTNIGHT_REGENERATE_GOLDEN=1) and review the diff in git before committing it.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

from conftest import AFTER_THE_NIGHT
from countnight.publish import MANIFEST
from countnight.site import Site

GOLDEN = Path(__file__).parent / "golden"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def test_sample_night_matches_the_golden_site(sample_night: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = Site(sample_night, out).build(AFTER_THE_NIGHT)
    assert report.built and not report.problems
    built = _files(out)
    if os.environ.get("COUNTNIGHT_REGENERATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in built.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    expected = _files(GOLDEN)
    assert sorted(built) == sorted(expected), "files differ: run `make golden` if the change is deliberate"
    diffs = []
    for name in sorted(expected):
        if built[name] != expected[name]:
            diff = difflib.unified_diff(
                expected[name].decode(errors="replace").splitlines(),
                built[name].decode(errors="replace").splitlines(),
                f"golden/{name}",
                f"built/{name}",
                lineterm="",
                n=2,
            )
            diffs.append("\n".join(list(diff)[:40]))
    assert not diffs, "the site differs from tests/golden (run `make golden` if deliberate):\n" + "\n\n".join(diffs)
