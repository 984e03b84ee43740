"""SIGKILL the real ``countnight watch`` at random moments while entries arrive.

After every kill each file in ``site/`` must still be whole (it parses) and no worker process of the
killed watcher may be left; after a restart the watcher's leftover temp files must be gone and every
entry dropped so far, before or during the kill, must be on a page and in the record. Nothing may be lost.

Some kills land in a running watcher between or during incremental builds, others in a watcher that
was just restarted (Python starting, the first build reading back the whole site) before it caught up.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
from watch_harness import (
    CONFIG,
    TIMEOUT,
    Dropper,
    WatchProcess,
    Writer,
    count,
    missing,
    record,
    site_problems,
    temp_files,
    wait_for,
)

from conftest import write_blog
from countnight.journal import Journal
from countnight.parallel import PARALLEL_MIN

KILLS = count(6, 100)
SEED = 20240704


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    root = write_blog(tmp_path / "blog", {}, config=CONFIG.format(page_size=10))
    out, log = root / "site", tmp_path / "watch.log"
    dropper = Dropper(root)
    for n in range(20):  # a night already under way (past PARALLEL_MIN entries, the full run's restarts fork)
        dropper.drop(n)
    watcher = WatchProcess(root, log)
    wait_for(lambda: not missing(out, dropper.dropped), "the first build", detail=watcher.tail)
    caught_up = True
    left_temp_files = torn_journal_lines = checked = 0
    catch_up: list[float] = []
    lives: list[float] = []
    into_restart = 0
    try:
        for kill in range(KILLS):
            writer = Writer(dropper, len(dropper.dropped), SEED + kill)
            writer.start()
            # A caught-up watcher dies 50-800 ms into the burst; a restarted one 0-1.5 s after it was started.
            into_restart += not caught_up
            if caught_up:
                delay = rng.uniform(0.05, 0.8)
                time.sleep(delay)  # the random moment is the point of the test
            else:
                delay = rng.uniform(0.0, 1.5)
                time.sleep(max(0.0, watcher.started + delay - time.monotonic()))
            lives.append(time.monotonic() - watcher.started)
            watcher.kill()
            writer.halt.set()
            writer.join(TIMEOUT)
            wait_for(lambda w=watcher: not w.leftovers(), f"kill {kill + 1}: the killed watcher's workers to exit", 10)

            problems = site_problems(out)
            assert not problems, f"kill {kill + 1}: site/ not whole after SIGKILL:\n" + "\n".join(problems)
            checked += 1
            left_temp_files += bool(temp_files(out))  # evidence that kills landed mid-write
            torn_journal_lines += any("torn" in w for w in Journal.open(root).warnings)

            watcher = WatchProcess(root, log)
            caught_up = rng.random() < 0.5 or kill == KILLS - 1
            if not caught_up:
                continue  # the next kill lands in this restart, before it has caught up
            began = time.monotonic()
            # One more entry after the restart: seeing it published proves the new watcher built after the kill.
            dropper.drop(len(dropper.dropped))
            wanted = list(dropper.dropped)
            wait_for(
                lambda w=wanted: not missing(out, w), f"kill {kill + 1}: the restart to publish", detail=watcher.tail
            )
            catch_up.append(time.monotonic() - began)
            # The record is appended just after the pages that show it are written.
            wait_for(lambda w=wanted: set(w) <= set(Journal.open(root).current), f"kill {kill + 1}: the record")
            wait_for(lambda p=watcher.pid: not temp_files(out, besides_pid=p), "the killed writers' temp files to go")
            problems = site_problems(out)
            assert not problems, f"kill {kill + 1}: site/ not whole after the restart:\n" + "\n".join(problems)
    finally:
        returncode = watcher.stop()
        for pid in watcher.leftovers():  # only after a failure: leave no process of this test behind
            os.kill(pid, signal.SIGKILL)
    assert returncode == 0, watcher.tail()
    assert not missing(out, dropper.dropped) and not temp_files(out)
    catch_up.sort()
    record(
        "sigkill",
        {
            "kills": KILLS,
            "kills_into_a_caught_up_watcher": KILLS - into_restart,
            "kills_into_a_restarting_watcher": into_restart,
            "site_checks": checked,
            "entries_dropped": len(dropper.dropped),
            "lost": len(missing(out, dropper.dropped)),
            "kills_that_left_temp_files": left_temp_files,
            "kills_that_tore_the_journal": torn_journal_lines,
            "restarts_verified": len(catch_up),
            "restart_catch_up_s_median": round(catch_up[len(catch_up) // 2], 2),
            "restart_catch_up_s_max": round(catch_up[-1], 2),
            "kill_after_start_s_min": round(min(lives), 2),
            "kill_after_start_s_max": round(max(lives), 2),
        },
    )


@pytest.mark.slow
def test_a_kill_during_a_parallel_cold_build_leaves_no_worker_behind(tmp_path: Path) -> None:
    """Killed while its workers read a long night's entries, the watcher must take them with it.

    Orphaned workers would wait on their task queue for ever (each holds its write end too, so no EOF):
    a watcher restarted after every crash would pile them up, tens of MB each.
    """
    root = write_blog(tmp_path / "blog", {}, config=CONFIG.format(page_size=20))
    dropper = Dropper(root)
    for n in range(PARALLEL_MIN * 3):  # enough for the cold build to take its workers a while
        dropper.drop(n)
    watcher = WatchProcess(root, tmp_path / "watch.log")
    try:
        workers = wait_for(watcher.children, "the cold build's workers", detail=watcher.tail)
        watcher.kill()
        wait_for(lambda: not watcher.leftovers(), f"workers {workers} to exit with the watcher", 10)
        assert not site_problems(root / "site")
        watcher = WatchProcess(root, tmp_path / "watch.log")
        wait_for(lambda: not missing(root / "site", dropper.dropped), "the restart to publish", detail=watcher.tail)
    finally:
        watcher.stop()
        orphans = watcher.leftovers()
        for pid in orphans:  # whatever the outcome, leave no process of this test behind
            os.kill(pid, signal.SIGKILL)
    assert not orphans
