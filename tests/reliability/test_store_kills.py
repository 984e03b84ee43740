"""SIGKILL ``countnight watch --publish`` again and again while it uploads to a real store (SeaweedFS on loopback).

After every kill the store is listed and every reference in index.html, live.json, the feed and every page
they lead to is resolved against it: none may be missing, so a reader of the store never meets a link to
nothing. (New files that name each other go up before anything a reader can reach names them; see
storeplan.upload_waves.) After
the last restart every entry dropped, before or during a kill, must be in the store and the store must
hold exactly the local site. 3 kills by default; issue 19's 100 with ``COUNTNIGHT_RELIABILITY_FULL=1``.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from watch_harness import CONFIG, TIMEOUT, Dropper, WatchProcess, Writer, count, record, wait_for

from conftest import write_blog
from countnight.sharecards import FOLDER
from store_support import BUCKET, Seaweed, listing, unresolved

pytest_plugins = ["store_support"]

KILLS = count(3, 100)
SEED = 20240705
PREFIX = "night/"
WINDOW_END = "2024-07-05T12:00:00+01:00"  # watch_harness.CONFIG's coverage_end


def wait_while_cards_come(differences: Callable[[], list[str]], cards: Path) -> None:
    """Wait for the store to hold the site while the watcher still draws share cards, a few every quarter second
    (sharecards.CardBudget): each card changes its share page, so the site keeps changing until the last card of
    thousands of entries is drawn, minutes on a loaded machine. Fail only when no new card came for the
    deadline and the store still differs."""
    drawn, deadline = -1, 0.0
    while differs := differences():
        now = time.monotonic()
        count_now = sum(1 for _ in cards.iterdir()) if cards.is_dir() else 0
        if count_now != drawn:
            drawn, deadline = count_now, now + TIMEOUT * 2
        elif now > deadline:
            pytest.fail(
                f"timed out waiting for the store to hold the site ({drawn} cards drawn); "
                f"{len(differs)} objects differ, among them: {differs[:10]}"
            )
        time.sleep(0.5)


def differences(store: dict[str, str], site: dict[str, str]) -> list[str]:
    """The names whose object in the store is missing, extra or not the site's file, sorted."""
    return sorted(name for name in store.keys() | site.keys() if store.get(name) != site.get(name))


def local_site(out: Path) -> dict[str, str]:
    found = {}
    for path in out.rglob("*"):
        name = path.relative_to(out).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in name.split("/")):
            found[name] = hashlib.md5(path.read_bytes()).hexdigest()
    return found


@pytest.mark.slow
def test_sigkill_during_uploads_never_leaves_a_reference_to_nothing_in_the_store(
    tmp_path: Path, own_seaweed: Seaweed, aws_env: dict[str, str]
) -> None:
    rng = random.Random(SEED)
    # Entries come ten seconds apart in their own time (watch_harness.entry_text) and a slow run drops over
    # 10,000 of them: a week of coverage keeps every one inside the window, so every one must reach the store.
    config = CONFIG.format(page_size=10).replace(WINDOW_END, "2024-07-12T12:00:00+01:00")
    assert WINDOW_END in CONFIG
    root = write_blog(tmp_path / "blog", {}, config=config)
    out, log = root / "site", tmp_path / "watch.log"
    client = own_seaweed.client()
    dropper = Dropper(root)
    for n in range(15):
        dropper.drop(n)
    publish = ("--publish", f"s3://{BUCKET}/{PREFIX}", "--endpoint", own_seaweed.endpoint)
    watcher = WatchProcess(root, log, *publish)

    def in_store(wanted: list[str]) -> bool:
        objects = listing(client, BUCKET, PREFIX)
        return all(f"update/{ident}.html" in objects for ident in wanted) and "index.html" in objects

    first = list(dropper.dropped)
    wait_for(lambda: in_store(first), "the first publish", detail=watcher.tail)
    checks = problems_seen = pending = unreachable = into_uploads = 0
    objects_seen: list[int] = []
    lives: list[float] = []
    try:
        for kill in range(KILLS):
            writer = Writer(dropper, len(dropper.dropped), SEED + kill)
            writer.start()
            # The kill lands while this watcher uploads: once the store has changed since the last kill (its
            # first upload is in), at a random moment within the next 0.4 s, as the writer keeps dropping.
            before = listing(client, BUCKET, PREFIX)
            deadline = time.monotonic() + TIMEOUT
            while listing(client, BUCKET, PREFIX) == before and time.monotonic() < deadline:
                time.sleep(0.005)
            into_uploads += listing(client, BUCKET, PREFIX) != before
            time.sleep(rng.uniform(0.0, 0.4))  # the random moment
            lives.append(time.monotonic() - watcher.started)
            watcher.kill()
            writer.halt.set()
            writer.join(TIMEOUT)
            reads: dict[tuple[str, str], bytes] = {}  # the store is still now: each object read once for both checks
            problems = unresolved(client, BUCKET, PREFIX, reachable=True, reads=reads)
            checks += 1
            problems_seen += len(problems)
            assert not problems, f"kill {kill + 1}: the store names objects it does not hold:\n" + "\n".join(problems)
            unreachable += len(unresolved(client, BUCKET, PREFIX, reads=reads)) - len(
                problems
            )  # new files naming each other
            objects = listing(client, BUCKET, PREFIX)
            objects_seen.append(len(objects))
            pending += any(f"update/{ident}.html" not in objects for ident in dropper.dropped)  # killed mid-catch-up
            watcher = WatchProcess(root, log, *publish)
        wanted = list(dropper.dropped)
        # The backlog of every kill goes up now: minutes on a loaded two-core machine.
        wait_for(lambda: in_store(wanted), "the last restart to catch up", TIMEOUT * 5, detail=watcher.tail)
        wait_while_cards_come(lambda: differences(listing(client, BUCKET, PREFIX), local_site(out)), out / FOLDER)
        assert unresolved(client, BUCKET, PREFIX) == []
    finally:
        returncode = watcher.stop()
        for pid in watcher.leftovers():  # only after a failure: leave no process of this test behind
            os.kill(pid, signal.SIGKILL)
    assert returncode == 0, watcher.tail()
    record(
        "store_sigkill",
        {
            "kills": KILLS,
            "store_checks_after_a_kill": checks,
            "kills_after_the_watcher_began_uploading": into_uploads,
            "kills_with_uploads_pending": pending,
            "references_to_missing_objects": problems_seen,
            "links_between_new_unreachable_files_not_yet_all_up": unreachable,
            "entries_dropped": len(dropper.dropped),
            "entries_lost": 0,
            "objects_in_store_median": statistics.median(objects_seen),
            "objects_in_store_max": max(objects_seen),
            "kill_after_start_s_min": round(min(lives), 2),
            "kill_after_start_s_max": round(max(lives), 2),
        },
    )
