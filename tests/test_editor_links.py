"""Editor commands never write outside entries/ nor through a link (issue 17, item 3).

``restore e1 --force`` with ``entries/e1.md`` linked to a file outside overwrote that file; ``pin`` wrote
``pinned: true`` into an outside file; with ``b.md → a.md``, ``withdraw b`` withdrew a. Every editor command
is tried against every way a link can point: outside by an absolute and a relative path, at another entry,
through a chain of links, at nothing, at a folder; and against links planted where the old temp name was.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, DURING_THE_NIGHT, run_countnight, write_blog
from countnight.editing import correct, restore, set_flag, withdraw
from countnight.errors import InputError
from countnight.listing import UnknownEntry
from countnight.site import Site

ENTRY = "---\ntime: '01:00'\ntitle: {title}\n---\nText of {title}.\n"
OUTSIDE = ENTRY.format(title="Outside")

COMMANDS = {
    "correct": lambda root, ident: correct(root, ident, "A fix.", DURING_THE_NIGHT),
    "withdraw": lambda root, ident: withdraw(root, ident),
    "pin": lambda root, ident: set_flag(root, ident, "pinned", True),
    "unpin": lambda root, ident: set_flag(root, ident, "pinned", False),
    "key": lambda root, ident: set_flag(root, ident, "key", True),
    "unkey": lambda root, ident: set_flag(root, ident, "key", False),
    "restore --force": lambda root, ident: restore(root, ident, force=True),
    "restore": lambda root, ident: restore(root, ident),
}


def _night(tmp_path: Path) -> tuple[Path, Path]:
    """A blog whose entries e1 and a were both published (so restore has versions), and a file outside it."""
    root = write_blog(
        tmp_path / "blog", {"entries/e1.md": ENTRY.format(title="E1"), "entries/a.md": ENTRY.format(title="A")}
    )
    Site(root).build(AFTER_THE_NIGHT)
    outside = tmp_path / "outside" / "e1.md"
    outside.parent.mkdir()
    outside.write_text(OUTSIDE)
    return root, outside


def _links(root: Path, outside: Path) -> dict[str, tuple[str, Path | None]]:
    """name → (the link's target, the file it reaches or None)."""
    (root / "entries/sub").mkdir()
    (root / "entries/sub/inner.md").write_text(ENTRY.format(title="Inner"))
    return {
        "absolute, outside": (str(outside), outside),
        "relative, outside": (os.path.relpath(outside, root / "entries"), outside),
        "another entry": ("a.md", root / "entries/a.md"),
        "a chain to outside": ("chain-1", outside),
        "inside a subfolder": ("sub/inner.md", root / "entries/sub/inner.md"),
        "to nothing": ("nowhere.md", None),
        "to a folder": ("sub", None),
    }


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(
    "kind",
    [
        "absolute, outside",
        "relative, outside",
        "another entry",
        "a chain to outside",
        "inside a subfolder",
        "to nothing",
        "to a folder",
    ],
)
def test_no_editor_command_writes_through_a_link(tmp_path: Path, command: str, kind: str) -> None:
    root, outside = _night(tmp_path)
    links = _links(root, outside)
    target, reached = links[kind]
    link = root / "entries/e1.md"
    link.unlink()
    if kind == "a chain to outside":
        (root / "entries/chain-1").symlink_to(outside)
    link.symlink_to(target)
    before = {p: p.read_bytes() for p in [outside, *(root / "entries").rglob("*.md")] if p.is_file()}
    with pytest.raises((InputError, UnknownEntry)) as caught:
        COMMANDS[command](root, "e1")
    if isinstance(caught.value, InputError):
        assert "is a link" in str(caught.value) or "exists" in str(caught.value)
    after = {p: p.read_bytes() for p in [outside, *(root / "entries").rglob("*.md")] if p.is_file()}
    assert after == before, "a file changed through the link"
    assert link.is_symlink() and os.readlink(link) == target
    assert reached is None or reached.read_bytes() == before[reached]


def test_the_reproducers_through_the_command_line(tmp_path: Path) -> None:
    """restore --force, pin and withdraw as the issue ran them: refused, exit 1, nothing outside changed."""
    root, outside = _night(tmp_path)
    (root / "entries/e1.md").unlink()
    (root / "entries/e1.md").symlink_to(outside)
    (root / "entries/b.md").symlink_to("a.md")
    a_before = (root / "entries/a.md").read_bytes()
    for args in (["restore", "e1", "--force"], ["pin", "e1"], ["withdraw", "b"]):
        done = run_countnight(*args, "--root", str(root))
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "is a link" in done.stderr and "Traceback" not in done.stderr
        assert "restored" not in done.stdout
    assert outside.read_text() == OUTSIDE
    assert (root / "entries/a.md").read_bytes() == a_before


def test_a_hard_link_to_an_outside_file_is_replaced_not_written_into(tmp_path: Path) -> None:
    """A hard link cannot be told from a file; the edit replaces the name (a rename), so the outside file
    keeps its bytes and entries/ gets its own copy."""
    root, outside = _night(tmp_path)
    (root / "entries/e1.md").unlink()
    os.link(outside, root / "entries/e1.md")
    assert set_flag(root, "e1", "pinned", True).changed
    assert outside.read_text() == OUTSIDE
    assert "pinned: true" in (root / "entries/e1.md").read_text()


@pytest.mark.parametrize("command", ["pin", "correct", "withdraw", "restore --force"])
def test_links_planted_at_temp_names_are_never_written_through(tmp_path: Path, command: str) -> None:
    """The temp file was ``.NAME.PID.tmp``, opened without O_EXCL: a link left there by anyone was followed.
    Links at every name it could have had (this process's pid and its neighbours) stay untouched."""
    root, outside = _night(tmp_path)
    pid = os.getpid()
    planted = [root / f"entries/.e1.md.{p}.tmp" for p in range(pid - 3, pid + 4)]
    for link in planted:
        link.symlink_to(outside)
    COMMANDS[command](root, "e1")
    assert outside.read_text() == OUTSIDE
    assert all(link.is_symlink() for link in planted)


# -- an editor's command racing a reporter's save ---------------------------------------------------


def _save_lands_just_before_the_swap(monkeypatch: pytest.MonkeyPatch, path: Path, saves: list[bytes]) -> None:
    """Make each reporter's save in ``saves`` land (renamed into place, as editors save) just before the editor's
    command swaps its version in: the window between its "changed on disk" check and its rename."""
    import countnight.swap

    real_exchange, real_replace = countnight.swap.exchange, os.replace

    def land() -> None:
        if saves:
            staged = path.with_name(".reporter-save")
            staged.write_bytes(saves.pop(0))
            real_replace(staged, path)

    def exchange(a: Path, b: Path) -> bool:
        if Path(b) == path:
            land()
        return real_exchange(a, b)

    def replace(a: object, b: object) -> None:
        if Path(str(b)) == path:
            land()
        real_replace(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(countnight.swap, "exchange", exchange)
    monkeypatch.setattr(os, "replace", replace)


def test_a_save_between_the_check_and_the_swap_is_never_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving the race fuzz (tests/reliability) never hit in 600 rounds, forced: the reporter's save
    lands after the command checked the file and before its version went in. The save stays; the command
    says "changed on disk" and writes nothing."""
    root, _ = _night(tmp_path)
    path = root / "entries/e1.md"
    newer = ENTRY.format(title="E1, the reporter's newer words").encode()
    _save_lands_just_before_the_swap(monkeypatch, path, [newer])
    with pytest.raises(InputError, match="changed on disk"):
        set_flag(root, "e1", "pinned", True)
    assert path.read_bytes() == newer
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []


def test_two_saves_in_the_window_leave_the_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second save lands while the first is being put back: the newest one stays."""
    root, _ = _night(tmp_path)
    path = root / "entries/e1.md"
    first, second = (ENTRY.format(title=f"Save {n}").encode() for n in (1, 2))
    _save_lands_just_before_the_swap(monkeypatch, path, [first, second])
    with pytest.raises(InputError, match="changed on disk"):
        withdraw(root, "e1")
    assert path.read_bytes() == second
