"""The fuzz corpus through a running ``countnight watch``: it must keep running and publishing.

Hypothesis makes batches of hostile entry files (random YAML-ish text, random front matter structures,
any encoding; the strategies of tests/test_fuzz.py). Each batch is dropped into the entries/ folder of one
live watcher process, then a good entry; the watcher must still be alive, must publish the good entry,
and every file of site/ must still be whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path
from random import Random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from watch_harness import (
    CONFIG,
    TIMEOUT,
    Dropper,
    WatchProcess,
    count,
    entry_id,
    entry_text,
    missing,
    record,
    site_problems,
    wait_for,
)

from conftest import write_blog
from countnight.editing import correct, set_flag, withdraw
from countnight.errors import InputError
from test_fuzz import DANGEROUS_CHARS, _fits, file_stems, structured_files, yamlish_files

BATCHES = count(4, 40)
BATCH = 25
_run: dict[str, int] = {"batches": 0, "files": 0}


@pytest.fixture(scope="module")
def watcher(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = write_blog(tmp_path_factory.mktemp("fuzzwatch") / "blog", {}, config=CONFIG.format(page_size=20))
    process = WatchProcess(root, root.parent / "watch.log")
    try:
        dropper = Dropper(root)
        dropper.drop(0)
        wait_for(lambda: not missing(root / "site", [entry_id(0)]) or None, "the first entry published")
        yield root, process, dropper
        assert process.alive(), (root.parent / "watch.log").read_text()[-2000:]
    finally:
        code = process.stop()  # never leave a watcher running, whatever failed
    assert code == 0
    record("fuzz_watch", {"batches": _run["batches"], "hostile_files": _run["files"], "lost": 0})


@pytest.mark.slow
@settings(
    max_examples=BATCHES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(st.one_of(structured_files(), yamlish_files()), min_size=BATCH, max_size=BATCH))
def test_hostile_files_never_stop_the_watcher(watcher, batch: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    root, process, dropper = watcher
    _run["batches"] += 1
    number = _run["batches"]
    for i, data in enumerate(batch):
        staged = dropper.spool / f"2{number:03d}{i:02d}-fuzz.md"
        staged.write_bytes(data)
        dropper.commit(staged)
        _run["files"] += 1
    good = (
        1000 + number
    )  # then a good entry (inside the night's window): it must be published, with every hostile file still there
    dropper.drop(good)
    wanted = [dropper.dropped[-1]]
    wait_for(lambda: not missing(root / "site", wanted) or None, f"a good entry after hostile batch {number}")
    assert process.alive(), (root.parent / "watch.log").read_text()[-2000:]
    assert site_problems(root / "site") == []


# -- names, links and editor commands (issue 17) -------------------------------------------------

_names: dict[str, int] = {"batches": 0, "names": 0, "links": 0}


@pytest.mark.slow
@settings(
    max_examples=count(4, 30),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    stems=st.lists(file_stems().filter(_fits), min_size=5, max_size=15, unique=True),
    links=st.lists(st.sampled_from(["outside", "nothing", "entry", "folder", "loop"]), max_size=5),
)
def test_hostile_names_and_links_never_stop_the_watcher(watcher, stems: list[str], links: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Names of every length and character, and links of every kind, dropped into the running watcher: it
    stays up, publishes the good entry after them, every page stays whole, and its console (the log) holds no
    control character from a name and no traceback."""
    root, process, dropper = watcher
    _names["batches"] += 1
    number = _names["batches"]
    outside = root.parent / "outside.md"
    outside.write_text(entry_text(1))
    for stem in stems:
        staged = dropper.spool / "name.md"
        staged.write_bytes(b"---\ntime: '2024-07-04T23:00:00+01:00'\ntitle: Named\n---\nText.\n")
        os.rename(staged, root / "entries" / f"{stem}.md")
        _names["names"] += 1
    for i, kind in enumerate(links):
        link = root / "entries" / f"link-{number}-{i}.md"
        target = {"outside": str(outside), "nothing": "gone.md", "entry": f"{entry_id(0)}.md", "folder": ".."}
        link.symlink_to(target.get(kind, link.name))  # "loop": a link to itself
        _names["links"] += 1
    good = 2000 + number
    dropper.drop(good)
    wait_for(lambda: not missing(root / "site", [dropper.dropped[-1]]) or None, f"a good entry after names {number}")
    assert process.alive(), process.tail()
    assert site_problems(root / "site") == []
    log = process.log.read_text(errors="surrogateescape")
    assert "Traceback" not in log
    assert not [c for c in log if c in DANGEROUS_CHARS and c not in "\n"], "a control character reached the console"
    record("fuzz_watch_names", {**_names, "lost": 0})


RACE_ROUNDS = count(60, 600)
RACE_COMMANDS = ["pin", "unpin", "key", "unkey", "correct", "withdraw"]


@pytest.mark.slow
def test_editor_commands_racing_the_watcher_and_a_reporters_save(watcher) -> None:  # type: ignore[no-untyped-def]
    """An editor's command and a reporter's save on one entry, started together, round after round, while the
    watcher publishes: the reporter's save is never lost (the command is applied on top of it, or refused
    with "changed on disk", or comes first and is replaced by it), and the watcher publishes the last word."""
    root, process, _ = watcher
    ident = "race-entry"
    path = root / "entries" / f"{ident}.md"
    (root / ".race").mkdir(exist_ok=True)

    path.write_text(_version(0))
    wait_for(lambda: (root / "site/update" / f"{ident}.html").exists(), "the race entry published")
    outcomes: Counter[str] = Counter()
    random = Random(17)
    for k in range(1, RACE_ROUNDS + 1):
        said = _race_round(root, ident, k, random.choice(RACE_COMMANDS))
        body = path.read_text().split("---\n", 2)[2]
        outcomes["lost" if body != f"Version {k} of the reporter.\n" else said.partition(":")[0]] += 1
        assert body == f"Version {k} of the reporter.\n", f"round {k}: the reporter's save was lost ({said})"
        path.write_text(_version(k))  # the next round starts from the reporter's words alone
    final = path.read_bytes()
    wait_for(
        lambda: _last_shown(root, ident) == final.decode(),
        "the watcher to publish the last word",
        detail=process.tail,
    )
    assert process.alive(), process.tail()
    record("fuzz_watch_editor_race", {"rounds": RACE_ROUNDS, **outcomes, "lost": outcomes["lost"]})


def _version(k: int) -> str:
    return f"---\ntime: '2024-07-04T23:30:00+01:00'\ntitle: Race\n---\nVersion {k} of the reporter.\n"


def _race_round(root: Path, ident: str, k: int, command: str) -> str:
    """The reporter saves version ``k`` (renamed into place, as editors save) as the editor runs ``command``,
    both released at once; what the editor's command said."""
    start = threading.Barrier(2)
    said: list[str] = []
    staged = root / ".race" / f"{ident}.md"
    staged.write_text(_version(k))

    def reporter() -> None:
        start.wait()
        os.rename(staged, root / "entries" / f"{ident}.md")

    def editor() -> None:
        start.wait()
        try:
            if command == "correct":
                correct(root, ident, f"Fix {k}.", datetime.fromisoformat("2024-07-05T01:00:00+01:00"))
            elif command == "withdraw":
                withdraw(root, ident)
            else:
                set_flag(root, ident, "pinned" if "pin" in command else "key", not command.startswith("un"))
            said.append("applied")
        except InputError as err:
            said.append("refused: changed on disk" if "changed on disk" in str(err) else f"refused: {err}")

    threads = [threading.Thread(target=reporter), threading.Thread(target=editor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    return said[0] if said else "no answer"


def _last_shown(root: Path, ident: str) -> str | None:
    shown = None
    with contextlib.suppress(OSError):
        for line in (root / ".countnight/journal.jsonl").read_text().splitlines():
            with contextlib.suppress(ValueError):
                record_ = json.loads(line)
                if record_.get("id") == ident and record_.get("op") == "shown":
                    shown = record_["text"]
    return shown
