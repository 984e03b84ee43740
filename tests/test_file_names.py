"""Entry file names: any name the tool accepts publishes, and a name it cannot publish is that entry's error.

Issue 17, items 1 and 7. A stem of ~230 characters made every build fail ("File name too long": the writer's
temp name added ~25 bytes), so nothing later was published; and ``$`` in the id check let a newline at the
end of a name through (its share link 404'd, ``withdraw`` and ``history`` could not name it). Every length up
to the file system's limits, and every character, is tried here.
"""

from __future__ import annotations

import os
from io import StringIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AFTER_THE_NIGHT, CONFIG, DURING_THE_NIGHT, run_countnight, write_blog
from countnight.config import parse_config
from countnight.console import Console
from countnight.editing import correct, restore, set_flag, withdraw
from countnight.entries import parse_entry
from countnight.errors import InputError
from countnight.models import Context
from countnight.names import NAME_MAX, is_id, longest_id
from countnight.site import Site
from countnight.watch import Watcher

EVENT = parse_config(CONFIG.encode(), "countnight.toml")
ENTRY = "---\ntime: '01:00'\ntitle: Long names\n---\nText.\n"
GOOD = "---\ntime: '01:05'\ntitle: The good one\n---\nText.\n"


def _share(root: Path, ident: str) -> Path:
    return root / "site" / "update" / f"{ident}.html"


def test_a_long_name_publishes_and_never_blocks_the_others(tmp_path: Path) -> None:
    """The reproducer: a night under way, then a valid name with a stem of 230 characters and a later entry.
    The writer's temp file beside update/NAME.html was ~25 bytes longer than the name: every build failed."""
    root = write_blog(tmp_path / "blog", {"entries/0105-good.md": GOOD})
    assert Site(root).build(AFTER_THE_NIGHT).built
    long = "0100-" + "x" * 225
    (root / "entries" / f"{long}.md").write_text(ENTRY)
    (root / "entries/0110-later.md").write_text(GOOD.replace("01:05", "01:10"))
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.built and not report.problems and not report.warnings, report.warnings
    assert _share(root, long).is_file() and _share(root, "0110-later").is_file()


def test_every_length_the_file_system_takes_publishes_or_is_that_entrys_error(tmp_path: Path) -> None:
    """Every stem length from 1 to the longest a file name can have (NAME_MAX - len('.md')), in one night."""
    root = write_blog(tmp_path / "blog", {"entries/0105-good.md": GOOD})
    limit = longest_id(root / "site")
    assert limit == NAME_MAX - len(".html")
    stems = ["a" * n for n in range(1, NAME_MAX - len(".md") + 1)]
    for stem in stems:
        (root / "entries" / f"{stem}.md").write_text(ENTRY)
    site = Site(root)
    report = site.build(AFTER_THE_NIGHT)
    assert report.built, report.warnings
    refused = {p.path for p in report.problems}
    assert refused == {f"entries/{s}.md" for s in stems if len(s) > limit}
    for problem in report.problems:
        assert "too long to publish" in problem.message and f"at most {limit}" in problem.message
    for stem in stems:  # (a longer share page's name cannot even be asked about: "File name too long")
        assert len(stem) > limit or _share(root, stem).is_file()
    assert _share(root, "0105-good").is_file()
    # The next change goes out too (the build that failed used to fail on every later change as well).
    (root / "entries/0110-later.md").write_text(GOOD.replace("01:05", "01:10"))
    assert site.build(AFTER_THE_NIGHT, changed={"entries/0110-later.md"}).built
    assert _share(root, "0110-later").is_file()
    assert not list((root / "site").rglob(".countnight-tmp-*")), "temp files left behind"


def test_a_deep_output_folder_lowers_the_limit_by_the_path_limit(tmp_path: Path) -> None:
    """PATH_MAX counts too: under an output folder ~3,900 bytes deep, only short ids fit, and the rest are
    each refused as their own entry's error while the short ones publish."""
    root = write_blog(tmp_path / "blog", {"entries/0105-good.md": GOOD})
    deep = tmp_path
    while len(os.fsencode(deep)) < 3850:
        deep = deep / ("d" * 200)
    out = deep / "site"
    limit = longest_id(out)
    assert 0 < limit < 200
    names = {"fits": "f" * limit, "too-long": "t" * (limit + 1), "far-too-long": "l" * 240}
    for stem in names.values():
        (root / "entries" / f"{stem}.md").write_text(ENTRY)
    report = Site(root, out).build(AFTER_THE_NIGHT)
    assert report.built, report.warnings
    assert {p.path for p in report.problems} == {
        f"entries/{names['too-long']}.md",
        f"entries/{names['far-too-long']}.md",
    }
    assert (out / "update" / f"{names['fits']}.html").is_file() and (out / "update/0105-good.html").is_file()


def test_editor_commands_work_on_the_longest_publishable_name(tmp_path: Path) -> None:
    """The editor's temp file beside the entry was its name plus ~12 bytes: too long for a long name."""
    stem = "0100-" + "y" * (longest_id(tmp_path) - 5)
    root = write_blog(tmp_path / "blog", {f"entries/{stem}.md": ENTRY})
    Site(root).build(AFTER_THE_NIGHT)
    assert set_flag(root, stem, "pinned", True).changed
    assert correct(root, stem, "A fix.", DURING_THE_NIGHT).changed
    assert withdraw(root, stem).changed
    assert restore(root, stem, 1, force=True).changed
    assert sorted(p.name for p in (root / "entries").iterdir()) == [f"{stem}.md"]  # no temp file left


def test_a_long_name_under_the_watcher_is_said_once_and_the_next_entry_goes_out(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", {"entries/0105-good.md": GOOD})
    stream = StringIO()
    watcher = Watcher(Site(root, long_lived=True), console=Console(stream, colour=False), clock=lambda: AFTER_THE_NIGHT)
    watcher.start()
    try:
        builds = watcher.builds
        (root / "entries" / f"{'z' * 252}.md").write_text(ENTRY)
        (root / "entries/0110-later.md").write_text(GOOD.replace("01:05", "01:10"))
        deadline_ok = watcher.wait_for_build(builds, 30)
        assert deadline_ok
        for _ in range(20):  # both files' events may come in two batches
            if _share(root, "0110-later").is_file() and watcher.last and watcher.last.problems:
                break
            watcher.wait_for_build(watcher.builds, 5)
        assert _share(root, "0110-later").is_file()
        assert [p.path for p in watcher.last.problems] == [f"entries/{'z' * 252}.md"]
        assert watcher.last.built
    finally:
        watcher.stop()
    assert "too long to publish" in stream.getvalue()


# -- ids are exactly the allowed characters -------------------------------------------------------


def test_a_newline_at_the_end_of_a_name_is_refused(tmp_path: Path) -> None:
    """The reproducer: ``x\\n.md`` passed the ``$`` of the id check; now it is that file's error."""
    root = write_blog(tmp_path / "blog", {"entries/0105-good.md": GOOD})
    (root / "entries" / "0100-x\n.md").write_text(ENTRY)
    report = Site(root).build(AFTER_THE_NIGHT)
    assert [p.path for p in report.problems] == ["entries/0100-x\n.md"]
    assert "use letters, digits" in report.problems[0].message
    assert not (root / "site/update/0100-x\n.html").exists() and _share(root, "0105-good").is_file()


CONTROLS = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]]
OTHERS = ["\u061c", "\u200e", "\u200f", "\u2028", "\u2029", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", " ", "é"]


@pytest.mark.parametrize(
    "char", [c for c in CONTROLS + OTHERS if c not in ("\0", "/")], ids=lambda c: f"U+{ord(c):04X}"
)
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_every_control_and_non_id_character_anywhere_is_refused(char: str, where: str) -> None:
    ident = {"start": f"{char}0100-x", "middle": f"0100{char}x", "end": f"0100-x{char}"}[where]
    with pytest.raises(InputError, match="use letters, digits"):
        parse_entry(ENTRY.encode(), f"entries/{ident}.md", Context(EVENT.window))


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ident=st.text(st.characters(blacklist_characters="/"), min_size=1, max_size=20))  # "/" ends a folder
def test_an_id_is_accepted_exactly_when_every_character_is_allowed(ident: str) -> None:
    allowed = ident[0] in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" and all(
        c.isascii() and (c.isalnum() or c in "-_.") for c in ident
    )
    assert is_id(ident) is allowed
    try:
        parse_entry(ENTRY.encode(), f"entries/{ident}.md", Context(EVENT.window))
    except InputError as err:
        assert not allowed or "time" in str(err)
    else:
        assert allowed


def test_the_newline_name_no_longer_breaks_list_history_or_withdraw(tmp_path: Path) -> None:
    """Through the real command: ``list`` keeps one line per entry, and nothing prints a traceback."""
    root = write_blog(tmp_path / "blog", {"entries/0105-good.md": GOOD})
    (root / "entries" / "0100-x\n.md").write_text(ENTRY)
    run = run_countnight("list", "--root", str(root))
    assert run.returncode == 0, run.stderr
    rows = run.stdout.splitlines()
    assert len(rows) == 3 and "0100-x\\x0a" in run.stdout and "error" in rows[1] + rows[2]
    for args in (["build"], ["history", "0100-x\n"], ["withdraw", "0100-x\n"], ["check"]):
        done = run_countnight(*args, "--root", str(root))
        assert "Traceback" not in done.stderr and done.returncode in (0, 1, 2), done.stderr
