"""The fuzz corpus through a running ``countnight watch``: it must keep running and publishing.

Hypothesis makes batches of hostile entry files (random YAML-ish text, random front matter structures,
any encoding; the strategies of tests/test_fuzz.py). Each batch is dropped into the entries/ folder of one
live watcher process, then a good entry; the watcher must still be alive, must publish the good entry,
and every file of site/ must still be whole.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from watch_harness import CONFIG, Dropper, WatchProcess, count, entry_id, missing, record, site_problems, wait_for

from conftest import write_blog
from test_fuzz import structured_files, yamlish_files

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
