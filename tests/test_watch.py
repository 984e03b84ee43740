"""Watch mode: a real watcher in a thread on real files; every wait is a condition with a deadline."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from watchdog.events import EventsLostEvent, FileCreatedEvent

from conftest import CONFIG, BlogMaker
from countnight import publish
from countnight.cli import main
from countnight.console import NORMAL, QUIET, VERBOSE, Console
from countnight.site import Site
from countnight.watch import Watcher

TIMEOUT = 15.0  # generous: the suite runs two workers on a loaded two-core machine
StartWatcher = Callable[..., tuple[Watcher, io.StringIO]]


def update(title: str, clock: str = "23:00") -> str:
    return f'---\ntime: "{clock}"\ntitle: {title}\n---\nSome words about {title}.\n'


def wait_until(predicate: Callable[[], object], what: str, out: io.StringIO | None = None, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.005)
    console = out.getvalue() if out is not None else ""
    pytest.fail(f"timed out waiting for {what}\n--- console ---\n{console}")


def live(root: Path) -> dict[str, str]:
    """id → html in site/live.json (empty before the first build)."""
    try:
        data = json.loads((root / "site" / "live.json").read_bytes())
    except FileNotFoundError:
        return {}
    return {e["id"]: e["html"] for e in data["entries"]}


@pytest.fixture
def watching() -> Iterator[StartWatcher]:
    """``start(root, **options)`` → (a running watcher, its console output); stopped after the test."""
    started: list[Watcher] = []

    def start(root: Path, **options: object) -> tuple[Watcher, io.StringIO]:
        out = io.StringIO()
        settings: dict[str, object] = {"quiet": 0.03, "grace": 0.3, "health": 0.1, "retry": 0.1} | options
        watcher = Watcher(Site(root), console=Console(out, verbosity=VERBOSE, colour=False), **settings)  # type: ignore[arg-type]
        started.append(watcher)
        watcher.start()
        return watcher, out

    yield start
    for watcher in started:
        watcher.stop()


# -- the everyday: new, changed, deleted ---------------------------------------------------------------


@pytest.mark.parametrize("poll", [False, True], ids=["inotify", "poll"])
def test_new_changed_and_deleted_entries_go_out(blog: BlogMaker, watching: StartWatcher, poll: bool) -> None:
    root = blog({"entries/2300-first.md": update("First")})
    _, out = watching(root, poll=poll, poll_interval=0.05)
    assert set(live(root)) == {"2300-first"}

    (root / "entries" / "2310-second.md").write_text(update("Second", "23:10"))
    wait_until(lambda: "2310-second" in live(root), "the new entry", out)
    (root / "entries" / "2310-second.md").write_text(update("Second, corrected", "23:10"))
    wait_until(lambda: "Second, corrected" in live(root).get("2310-second", ""), "the change", out)
    (root / "entries" / "2300-first.md").unlink()
    wait_until(lambda: "2300-first" not in live(root), "the deletion", out)

    text = wait_until(lambda: "withdrawn 2300-first" in out.getvalue() and out.getvalue(), "the console line", out)
    assert re.search(r"^\d\d:\d\d:\d\d published 2310-second — Second \(\d+ ms\)$", text, re.M), text
    assert re.search(r"^\d\d:\d\d:\d\d updated 2310-second — Second, corrected \(\d+ ms\)$", text, re.M), text
    assert re.search(r"^\d\d:\d\d:\d\d withdrawn 2300-first — file deleted", text, re.M), text
    assert re.search(r"^\d\d:\d\d:\d\d 1 live · no errors$", text, re.M), text


def test_a_burst_of_500_files_is_published_by_a_handful_of_builds(blog: BlogMaker, watching: StartWatcher) -> None:
    root = blog()
    watcher, out = watching(root, quiet=0.05)
    before = watcher.builds
    for n in range(500):
        minute = n % 60
        (root / "entries" / f"23{minute:02d}-burst-{n:03d}.md").write_text(update(f"Burst {n}", f"23:{minute:02d}"))
    wait_until(lambda: watcher.last_built is not None and watcher.last_built.live == 500, "all 500 live", out, 60)
    assert watcher.builds - before <= 8, f"{watcher.builds - before} builds for one burst"
    assert out.getvalue().count(" published ") == 500


# -- editors and sync tools ----------------------------------------------------------------------------


def test_a_vim_save_never_takes_the_entry_off_the_page(blog: BlogMaker, watching: StartWatcher) -> None:
    """rename x.md → x.md~, write x.md anew, delete x.md~: a reader polling live.json never misses it."""
    root = blog({"entries/2300-vim.md": update("Before")})
    watcher, out = watching(root, grace=5.0)  # far longer than the gap between the rename and the rewrite
    entry, backup = root / "entries" / "2300-vim.md", root / "entries" / "2300-vim.md~"
    gaps: list[str] = []
    reading = threading.Event()

    def reader() -> None:
        while not reading.is_set():
            if "2300-vim" not in live(root):
                gaps.append(time.strftime("%X"))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        builds = watcher.builds
        entry.rename(backup)
        assert watcher.wait_for_build(builds, TIMEOUT), "the rename woke no build"
        assert "2300-vim" in live(root) and not gaps, "gone after the rename"
        builds = watcher.builds
        entry.write_text(update("After"))
        assert watcher.wait_for_build(builds, TIMEOUT)
        wait_until(lambda: "After" in live(root).get("2300-vim", ""), "the new version", out)
        backup.unlink()
        builds = watcher.builds
        (root / "entries" / "2301-other.md").write_text(update("Other", "23:01"))  # a later build: still there
        wait_until(lambda: "2301-other" in live(root), "a later build", out)
    finally:
        reading.set()
        thread.join()
    assert not gaps, f"live.json lacked the entry at {gaps[:3]}"
    assert "withdrawn 2300-vim" not in out.getvalue()


def test_a_temp_then_rename_save_is_caught_by_its_destination(blog: BlogMaker, watching: StartWatcher) -> None:
    root = blog()
    _, out = watching(root)
    for temp in (".2300-saved.md.tmp", "2300-saved.md.swp", "_draft.md"):
        (root / "entries" / temp).write_text(update("Saved"))
    (root / "entries" / ".2300-saved.md.tmp").rename(root / "entries" / "2300-saved.md")
    wait_until(lambda: "2300-saved" in live(root), "the renamed file", out)
    assert set(live(root)) == {"2300-saved"}, "an editor's file was published"


def test_emacs_lock_symlinks_and_autosaves_are_ignored(blog: BlogMaker, watching: StartWatcher) -> None:
    root = blog({"entries/2300-emacs.md": update("Emacs")})
    _, out = watching(root)
    os.symlink("reporter@laptop.4242:1720130000", root / "entries" / ".#2300-emacs.md")  # dangling, as emacs does
    (root / "entries" / "#2300-emacs.md#").write_text("autosave")
    (root / "entries" / "2301-after.md").write_text(update("After", "23:01"))
    wait_until(lambda: "2301-after" in live(root), "the next entry", out)
    assert set(live(root)) == {"2300-emacs", "2301-after"}
    assert "#2300-emacs" not in out.getvalue()


# -- bad input never stops it --------------------------------------------------------------------------


def test_a_bad_edit_keeps_the_last_good_version_until_fixed(blog: BlogMaker, watching: StartWatcher) -> None:
    root = blog({"entries/2300-edit.md": update("Good")})
    watcher, out = watching(root)
    path = root / "entries" / "2300-edit.md"
    with path.open("w") as handle:  # caught half-written: the front matter is not closed yet
        handle.write('---\ntime: "23:00"\ntitle: Half')
        handle.flush()
        wait_until(lambda: "rejected entries/2300-edit.md" in out.getvalue(), "the rejection", out)
        assert "Good" in live(root)["2300-edit"]
        handle.write("\n---\nDone.\n")
    wait_until(lambda: "Half" in live(root).get("2300-edit", ""), "the finished file", out)

    path.write_text('---\ntime: "25:00"\ntitle: Broken\n---\n')
    wait_until(lambda: any("'25:00'" in p for p in watcher.outstanding()), "the problem", out)
    assert "Half" in live(root)["2300-edit"]
    assert "entries/2300-edit.md:2: time: '25:00'" in out.getvalue()
    assert watcher.outstanding()[0].startswith("entries/2300-edit.md:2:")
    path.write_text(update("Fixed"))
    wait_until(lambda: "Fixed" in live(root).get("2300-edit", ""), "the fix", out)
    wait_until(lambda: watcher.outstanding() == [], "the problem to go", out)
    assert "fixed entries/2300-edit.md" in out.getvalue()


def test_fifos_outside_links_and_huge_files_are_skipped_without_blocking(
    blog: BlogMaker, watching: StartWatcher, tmp_path: Path
) -> None:
    root = blog({"entries/2300-first.md": update("First")})
    _, out = watching(root)
    entries = root / "entries"
    os.mkfifo(entries / "2301-pipe.md")
    (tmp_path / "secret.md").write_text(update("Secret"))
    os.symlink(tmp_path / "secret.md", entries / "2302-link.md")
    (entries / "2303-huge.md").write_bytes(b"---\ntitle: x\n---\n" + b"x" * (1024 * 1024 + 10))
    (entries / "2304-good.md").write_text(update("Good", "23:04"))
    wait_until(lambda: "2304-good" in live(root), "the good file after the FIFO", out)
    messages = (
        "entries/2301-pipe.md: skipped (not a regular file)",
        "entries/2302-link.md: skipped (a link to a file outside entries/)",
        "entries/2303-huge.md: file is 1,048,603 bytes; an entry must be under 1 MiB",
    )
    wait_until(lambda: all(m in out.getvalue() for m in messages), "a message for each", out)
    assert set(live(root)) == {"2300-first", "2304-good"}


def test_a_broken_config_keeps_the_last_good_site_until_fixed(blog: BlogMaker, watching: StartWatcher) -> None:
    root = blog({"entries/2300-first.md": update("First")})
    watcher, out = watching(root)
    page = (root / "site" / "index.html").read_bytes()
    (root / "countnight.toml").write_text(CONFIG + "colour = 'red'\n")
    wait_until(lambda: watcher.outstanding(), "the config problem", out)
    assert "countnight.toml" in watcher.outstanding()[0]
    assert "the last good site stays live" in out.getvalue()
    assert (root / "site" / "index.html").read_bytes() == page
    (root / "countnight.toml").write_text(CONFIG.replace("Test night", "Renamed night"))
    wait_until(lambda: b"Renamed night" in (root / "site" / "index.html").read_bytes(), "the new title", out)
    wait_until(lambda: watcher.outstanding() == [], "the problem to go", out)


def test_a_broken_template_keeps_the_last_good_site(blog: BlogMaker, watching: StartWatcher) -> None:
    root = blog({"entries/2300-first.md": update("First")})
    watcher, out = watching(root)
    page = (root / "site" / "index.html").read_bytes()
    (root / "templates").mkdir()
    (root / "templates" / "entry.html").write_text("{% if %}")
    wait_until(lambda: any("templates/" in p for p in watcher.outstanding()), "the template problem", out)
    assert (root / "site" / "index.html").read_bytes() == page
    (root / "templates" / "entry.html").unlink()
    wait_until(lambda: not watcher.outstanding(), "the fix", out)
    assert "fixed templates/entry.html" in out.getvalue()


# -- time, lost events, failures -----------------------------------------------------------------------


def test_a_scheduled_entry_appears_when_its_time_comes(blog: BlogMaker, watching: StartWatcher) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    config = (
        f'title = "Tonight"\ntimezone = "Europe/London"\ncoverage_start = "{(now - timedelta(hours=1)).isoformat()}"\n'
    )
    due = now + timedelta(seconds=2)
    root = blog({"entries/embargo.md": f'---\ntime: "{due.isoformat()}"\ntitle: Exit poll\n---\n'}, config=config)
    _, out = watching(root)
    assert "embargo" not in live(root)
    assert "scheduled embargo — Exit poll, goes live at" in out.getvalue()
    wait_until(lambda: "embargo" in live(root), "the embargo to lift", out)
    assert datetime.now(UTC) >= due


def test_the_rescan_finds_what_events_missed_and_an_overflow_rescans(blog: BlogMaker, watching: StartWatcher) -> None:
    root = blog()
    watcher, out = watching(root, rescan=0.5)
    assert watcher.observer is not None
    watcher.observer.unschedule_all()  # from now on, no file event arrives: only the rescan can see changes
    (root / "entries" / "2300-unseen.md").write_text(update("Unseen"))
    wait_until(lambda: "2300-unseen" in live(root), "the rescan", out)
    wait_until(lambda: "the rescan found 1 change(s) no file event announced" in out.getvalue(), "the report", out)

    # watchdog's own signal that the kernel queue overflowed: an EventsLostEvent for the watched folder
    watcher._handler.dispatch(EventsLostEvent(str(root / "entries"), is_directory=True))
    wait_until(lambda: "the inotify queue overflowed" in out.getvalue(), "the overflow to be reported", out)


def test_an_exception_in_a_build_is_reported_and_watching_goes_on(
    blog: BlogMaker, watching: StartWatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = blog()
    watcher, out = watching(root)
    real = watcher.site.build
    calls = {"n": 0}

    def flaky(*args: object, **kwargs: object):  # the first build after start blows up
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(watcher.site, "build", flaky)
    (root / "entries" / "2300-first.md").write_text(update("First"))
    wait_until(lambda: "2300-first" in live(root), "the retry", out)
    assert "build failed: RuntimeError: disk on fire" in out.getvalue()


def test_a_handler_exception_does_not_kill_the_dispatcher(blog: BlogMaker, watching: StartWatcher) -> None:
    root = blog()
    watcher, out = watching(root)
    assert watcher.observer is not None
    watch = next(iter(watcher.observer._watches))  # the real dispatcher thread, fed an event it cannot handle
    watcher.observer.event_queue.put((FileCreatedEvent(None), watch))  # type: ignore[arg-type]
    (root / "entries" / "2300-after.md").write_text(update("After"))
    wait_until(lambda: "2300-after" in live(root), "the next entry", out)
    assert watcher.observer.is_alive()
    assert "could not queue a file event (TypeError" in out.getvalue()


def test_entries_folder_deleted_then_back(blog: BlogMaker, watching: StartWatcher, tmp_path: Path) -> None:
    root = blog({"entries/2300-first.md": update("First")})
    _, out = watching(root)
    (root / "entries").rename(tmp_path / "away")
    wait_until(lambda: "is gone" in out.getvalue(), "the report", out)
    assert set(live(root)) == {"2300-first"}, "a vanished folder emptied the page"
    (tmp_path / "away" / "2310-while-away.md").write_text(update("While away", "23:10"))
    (tmp_path / "away").rename(root / "entries")
    wait_until(lambda: "2310-while-away" in live(root), "the folder to come back", out)
    (root / "entries" / "2320-after.md").write_text(update("After", "23:20"))
    wait_until(lambda: "2320-after" in live(root), "events from the new folder", out)


# -- the console ---------------------------------------------------------------------------------------


def test_console_levels_and_colour(blog: BlogMaker) -> None:
    root = blog({"entries/2300-a.md": update("A"), "entries/2301-b.md": "---\ntime: nope\n---\n"})
    report = Site(root).build()
    loud, quiet, plain = io.StringIO(), io.StringIO(), io.StringIO()
    Console(loud, colour=True).build(report, None)
    Console(quiet, verbosity=QUIET).build(report, None)
    Console(plain, verbosity=NORMAL).build(report, None)
    assert "\x1b[32mpublished\x1b[0m 2300-a — A" in loud.getvalue()
    assert "\x1b[" not in plain.getvalue() and " published 2300-a — A (" in plain.getvalue()
    assert "published" not in quiet.getvalue() and "entries/2301-b.md:2: time:" in quiet.getvalue()
    assert f"1 live · {len(report.problems)} errors outstanding" in plain.getvalue()


def test_watch_command_help() -> None:
    result = CliRunner().invoke(main, ["watch", "--help"])
    assert result.exit_code == 0 and "--poll" in result.output and "--quiet" in result.output


# -- the process: signals and crashes ------------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )


def _read_until(process: subprocess.Popen[str], marker: str) -> str:
    """Lines from the process until one contains ``marker`` (a reader thread keeps the deadline honest)."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if marker in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(TIMEOUT):
        process.kill()
        pytest.fail(f"no {marker!r} from the process:\n{''.join(seen)}")
    return "".join(seen)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_watch_stops_cleanly_on_a_signal(blog: BlogMaker, sig: signal.Signals) -> None:
    root = blog({"entries/2300-first.md": update("First")})
    process = _spawn("-c", "from countnight.cli import main; main()", "watch", "--root", str(root))
    try:
        _read_until(process, "watching")
        process.send_signal(sig)
        output, _ = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:  # it did not stop: no watcher may outlive the test
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "stopped" in output


CRASH = """
import os, signal, sys
from pathlib import Path
import countnight.publish as publish
from countnight.cli import main

real = publish._stage
def dying(target, data, *, sync, **options):  # a build dies halfway through writing a page
    target = Path(target)
    if "crash" in data.decode(errors="replace") and target.name.endswith(".html"):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f"{publish._TEMP_PREFIX}{os.getpid()}-{target.name}"
        tmp.write_bytes(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    return real(target, data, sync=sync, **options)
publish._stage = dying

import countnight.staging as staging
real_write = staging.TreeWriter.write
def dying_in_tree(self, name, data):  # the same, in a first build staging the whole site in one folder
    if "crash" in data.decode(errors="replace") and name.endswith(".html"):
        target = Path(self.tree) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    return real_write(self, name, data)
staging.TreeWriter.write = dying_in_tree
sys.argv = ["countnight", "watch", "--root", sys.argv[1]]
main()
"""


@pytest.mark.parametrize("first", [False, True], ids=["a-later-build", "the-first-build"])
def test_after_sigkill_mid_build_a_restart_publishes_everything(
    blog: BlogMaker, watching: StartWatcher, first: bool
) -> None:
    """Killed while writing a page: of a later build (temp files beside the published pages), or of the first
    build into an empty folder (the whole site half staged in a hidden folder inside it)."""
    crashes = {f"entries/231{n}-crash-{n}.md": update(f"crash {n}", f"23:1{n}") for n in range(5)}
    root = blog({"entries/2300-first.md": update("First")} | (crashes if first else {}))
    process = _spawn("-c", CRASH, str(root))
    try:
        if not first:
            _read_until(process, "watching")
            for name, text in crashes.items():
                (root / name).write_text(text)
        process.wait(TIMEOUT)
    finally:
        if process.poll() is None:  # it did not die as planned: no watcher may outlive the test
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert any(p.name.startswith(".countnight-tmp-") for p in (root / "site").rglob("*")), "did it die mid-write?"
    if first:
        assert [p.name for p in (root / "site").iterdir()] == [f"{publish._TEMP_PREFIX}{process.pid}-site"]

    _, out = watching(root)
    wanted = {"2300-first", *(f"231{n}-crash-{n}" for n in range(5))}
    wait_until(lambda: set(live(root)) == wanted, "everything after the restart", out)
    assert not any(p.name.startswith(".countnight-tmp-") for p in (root / "site").rglob("*"))
    journal = (root / ".countnight" / "journal.jsonl").read_text()
    assert all(f'"id":"{ident}"' in journal for ident in wanted)
