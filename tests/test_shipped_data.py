"""The data countnight ships (the Library's 2024 results and the 2019 notionals) is the official files, whole."""

from __future__ import annotations

import hashlib
import re

import pytest
from click.testing import CliRunner

from conftest import REPO
from countnight.cli import main
from countnight.ge2024 import shipped_data

SHARED = REPO.parent / "shared" / "data" / "ge2024"


def _table() -> dict[str, str]:
    text = (shipped_data() / "SOURCE.md").read_text()
    return dict(re.findall(r"^\| (\S+\.csv) \| [^|]+ \| ([0-9a-f]{64}) \|$", text, re.MULTILINE))


def test_every_shipped_file_has_the_digest_its_source_note_gives() -> None:
    table = _table()
    shipped = {p.name for p in shipped_data().glob("*.csv")}
    assert set(table) == shipped and len(shipped) == 3
    for name, digest in table.items():
        assert hashlib.sha256((shipped_data() / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the reference copy is not beside the checkout ({SHARED})")
def test_the_shipped_files_are_the_reference_copy_byte_for_byte() -> None:
    for path in shipped_data().glob("*.csv"):
        assert path.read_bytes() == (SHARED / path.name).read_bytes(), path.name


def test_the_attribution_ships_with_the_data() -> None:
    note = (shipped_data() / "SOURCE.md").read_text()
    assert "Open Parliament Licence v3.0" in note
    assert "Rallings" in note and "Thrasher" in note


def test_baseline_and_replay_work_without_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner(env={"COUNTNIGHT_DATA": None})
    done = runner.invoke(main, ["baseline", "--root", str(tmp_path), "--constituency", "Stafford"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "baseline.csv").read_text().splitlines()[1].startswith("Stafford,")
    done = runner.invoke(main, ["replay", "--root", str(tmp_path / "night"), "--constituency", "Stafford", "--instant"])
    assert done.exit_code == 0, done.output
    assert sorted(p.name.split("-", 1)[1] for p in (tmp_path / "night" / "entries").glob("*.md")) == [
        "stafford-result.md",
        "stafford-turnout.md",
    ]
