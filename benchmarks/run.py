"""The benchmark of issue 8: countnight against Hugo and Pelican on the same synthetic night, in one run.

    .venv/bin/python benchmarks/run.py [--sizes 1000,10000] [--runs 5] [--drops 30]

Needs the peers: ``bash benchmarks/setup.sh`` (Debian's hugo and time; Pelican in benchmarks/.venv-peers).
For each N it writes the night (benchmarks/workload.py) into benchmarks/.work/N/ and measures:

1. cold full build, the three tools alternating (countnight, Hugo, Pelican, countnight, …), each into a
   fresh output folder with no cache: whole-process wall time and peak RSS (GNU time's %M);
2. restart with a warm cache: after those builds, the last one's ``.countnight/`` state and its output
   folder kept as they are (as when an editor restarts countnight): ``countnight build`` again as a new
   process into the same folder, timed to exit; a new ``countnight watch`` timed until it has published
   (see warm_restarts); ``countnight build`` again with one new entry written while it was down; and, to
   show the cost of writing every file, ``countnight build`` into an empty folder (the state still kept);
3. drop → publish: ``countnight watch`` and ``hugo server --renderToDisk`` running side by side on the
   same night; K times, the same new entry is written to a dot-file beside each tool's folder and
   renamed into it, countnight first then Hugo, each timed until its pages contain the entry's id
   (1 ms polls: stat, and read when the file changed). Both are left to go idle between drops.

Ratios are taken pair by pair (the same iteration) and summarised by median, p95, min and max. The
table is printed and written to benchmarks/results/latest.md, every sample to latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import workload

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
TRASH = WORK / ".trash"  # see fresh()
TRASH_EMPTIED = WORK / ".trash-emptied"
DELETED_WINDOW = 370.0  # seconds: ext4 skips inodes deleted this recently (60 s + 300 s while unwritten)
RESULTS = HERE / "results"
COUNTNIGHT = REPO / ".venv" / "bin" / "countnight"
PELICAN = HERE / ".venv-peers" / "bin" / "pelican"
PELICAN_CONF = HERE / "pelican" / "pelicanconf.py"
GNU_TIME = Path("/usr/bin/time")
TOOLS = ("countnight", "hugo", "pelican")
TARGET_N = 10_000
QUIET_CORES = 0.25  # settle(): other load below this counts as a quiet machine
settle_limit = 60.0  # --settle: how long to wait for a quiet machine before each measurement
DROP_TIMEOUT = 60.0
START_TIMEOUT = 900.0


@dataclass
class Run:
    seconds: float
    peak_mb: float  # the largest single process of the tree (GNU time's %M)
    tree_mb: float  # the whole process tree at once, the tool and any workers it forks (Pss, sampled)
    stdout: str
    other: float = 0.0  # cores kept busy by other processes on the machine meanwhile (noise)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- measuring -------------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
    return found


class TreeRss(threading.Thread):
    """Samples the memory of a process and all its descendants, summed, every 50 ms.

    Proportional set size (Pss, from /proc/PID/smaps_rollup): a page shared by a fork()ed worker and its
    parent counts half in each, so the sum is what the tree really holds, not its RSS counted twice.
    """

    def __init__(self, pid: int, skip_root: bool = False) -> None:
        super().__init__(daemon=True)
        self.pid, self.skip_root = pid, skip_root
        self.peak_mb = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            total = 0.0
            for pid in _descendants(self.pid)[1 if self.skip_root else 0 :]:
                with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as f:
                    total += next((int(ln.split()[1]) for ln in f if ln.startswith("Pss:")), 0) / 1024
            self.peak_mb = max(self.peak_mb, total)
            self._stop_event.wait(0.05)

    def __enter__(self) -> TreeRss:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_event.set()
        self.join()


def _machine_ticks() -> tuple[float, float]:
    """(all CPU time, busy CPU time) the machine has spent since boot, in seconds."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    return sum(values) / hz, (sum(values) - values[3] - values[4]) / hz


def busy_cpus(seconds: float = 1.0) -> float:
    """How many cores the whole machine kept busy over ``seconds`` (is anyone else running?)."""
    total0, busy0 = _machine_ticks()
    time.sleep(seconds)
    total1, busy1 = _machine_ticks()
    return (os.cpu_count() or 1) * (busy1 - busy0) / max(1e-9, total1 - total0)


def settle(limit: float) -> float:
    """Wait (up to ``limit`` seconds) until the machine is quiet; the load it was left at."""
    deadline = time.monotonic() + limit
    while True:
        busy = busy_cpus(0.5)
        if busy < QUIET_CORES or time.monotonic() > deadline:
            return busy


def timed(cmd: Sequence[str | Path], cwd: Path | None = None, *, sample_tree: bool = True) -> Run:
    """Whole-process wall time around the run, the peak RSS GNU time saw, the process tree's, and the
    CPU the rest of the machine used meanwhile (machine-wide busy time less what the run itself used).

    ``sample_tree=False``: no sampling of the process tree's memory (``tree_mb`` is 0). Each sample reads
    ``smaps_rollup``, which walks every page table of each process: ~4.5 ms of CPU for a 260 MB Python
    process, every 50 ms, on one of this machine's two cores, while the tool being timed wants both.
    """
    # Nothing another tool wrote is still waiting to go to disk: countnight syncs what it publishes before
    # putting it in place (syncfs, the whole file system), and would otherwise also wait for the pages Hugo
    # wrote one Pelican run (~20 s) before, which the kernel writes back only after 30 s (0.1 s more).
    os.sync()
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        argv = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *map(str, cmd)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        _, busy0 = _machine_ticks()
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        tree = TreeRss(proc.pid, skip_root=True)  # skip GNU time itself
        with tree if sample_tree else contextlib.nullcontext(tree):
            stdout, stderr = proc.communicate()
        seconds = time.perf_counter() - started
        _, busy1 = _machine_ticks()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{stderr[-2000:]}")
        other = max(0.0, (busy1 - busy0 - own) / seconds)
        return Run(seconds, int(rss.read().split()[-1]) / 1024, tree.peak_mb, stdout + stderr, other)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def wait_for(paths: Sequence[Path], needle: bytes | None, timeout: float) -> float | None:
    """perf_counter() when every path exists (and contains ``needle``); None on timeout.

    Tight loop with 1 ms sleeps: stat each file, read it only when its (mtime, size, inode) changed.
    """
    seen: dict[Path, tuple[int, int, int] | None] = dict.fromkeys(paths)
    done = dict.fromkeys(paths, False)
    deadline = time.perf_counter() + timeout
    while True:
        for path in paths:
            if done[path]:
                continue
            signature = _signature(path)
            if signature is None or signature == seen[path]:
                continue
            seen[path] = signature
            if needle is None:
                done[path] = True
                continue
            with contextlib.suppress(OSError):
                done[path] = needle in path.read_bytes()
        now = time.perf_counter()
        if all(done.values()):
            return now
        if now > deadline:
            return None
        time.sleep(0.001)


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, every thread


def wait_idle(pids: Sequence[int], quiet: float = 0.2, timeout: float = 30.0) -> None:
    """Until none of the processes has used any CPU for ``quiet`` seconds (a build still writing, GC…)."""
    deadline = time.monotonic() + timeout
    last = [_cpu_ticks(p) for p in pids]
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.02)
        now = [_cpu_ticks(p) for p in pids]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


def vm_hwm_mb(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fresh(path: Path) -> Path:
    """``path`` made free for a new folder: whatever is there is moved into the trash, not deleted.

    Deleting a site of ~10,000 files here made every file created in the next few minutes slow: this
    machine's root file system is ext4 without a journal, which skips recently deleted inodes when it
    allocates one (``recently_deleted()``, for 60 s, or 360 s while their inode table block is unwritten),
    and walks past every one of them again for each new file (perf: ~0.3 ms of kernel time a file, 1-2.5 s
    of a cold build at 10,000). Each tool's output was deleted just before its next run, so a run paid for
    the harness's own clean-up. Moved aside, nothing is deleted until every measurement is done (main).
    """
    if path.exists():
        TRASH.mkdir(parents=True, exist_ok=True)
        path.rename(TRASH / f"{time.time_ns()}-{path.name}")
    return path


def empty_trash() -> None:
    """Delete what fresh() moved aside, once nothing is measured any more, and note when (see quiet_disk)."""
    if TRASH.exists():
        shutil.rmtree(TRASH)
        TRASH_EMPTIED.write_text(f"{time.time()}\n")


def quiet_disk() -> None:
    """Before measuring: wait until the last run's deletions are older than the file system's window for
    recently deleted inodes (see fresh), so a run started right after another is not slowed by its clean-up."""
    try:
        emptied = float(TRASH_EMPTIED.read_text())
    except (OSError, ValueError):
        return
    wait = emptied + DELETED_WINDOW - time.time()
    if wait > 0:
        log(f"waiting {wait:.0f} s: the previous run deleted its files {DELETED_WINDOW - wait:.0f} s ago (see fresh())")
        time.sleep(wait)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the three measurements ------------------------------------------------------------------------


def countnight_site(base: Path) -> Path:
    """The folder countnight's cold builds write to: outside ``out`` (which each peer's turn empties), so the
    last cold build's site is still there for warm_restarts, as a published site is when countnight restarts."""
    return base / "countnight-site"


def cold_builds(base: Path, n: int, runs: int) -> tuple[dict[str, list[Run]], dict[str, float]]:
    """Each tool's cold builds, timed, alternating; and the peak memory of each one's whole process tree,
    from one more build first that is sampled and not timed (sampling costs the timed tool CPU: see timed)."""
    cn, hugo, pelican = base / "countnight", base / "hugo", base / "pelican"
    out, site = base / "out", countnight_site(base)
    cmds: dict[str, Callable[[str], tuple[list[str | Path], Path | None]]] = {
        "countnight": lambda i: ([COUNTNIGHT, "build", "--root", cn, "--out", site], None),
        "hugo": lambda i: (
            ["hugo", "--quiet", "--source", hugo, "--destination", out / f"hugo-{i}", "--cacheDir", out / f"hc-{i}"],
            None,
        ),
        "pelican": lambda i: (
            [PELICAN, pelican / "content", "-s", PELICAN_CONF, "-o", out / f"pelican-{i}", "-q"],
            pelican,
        ),
    }

    def cold(name: str, i: str, *, sample_tree: bool) -> Run:
        if name == "countnight":  # no state, no site from before; the last run's are kept for warm_restarts
            fresh(cn / ".countnight")
            fresh(site)
        fresh(hugo / "resources")
        fresh(out)
        cmd, cwd = cmds[name](i)
        settle(settle_limit)
        return timed(cmd, cwd, sample_tree=sample_tree)

    trees: dict[str, float] = {}
    for name in cmds:
        run = cold(name, "memory", sample_tree=True)
        trees[name] = run.tree_mb
        log(f"  N={n} cold {name:10} memory run: {run.tree_mb:7.1f} MB the whole tree, {run.peak_mb:7.1f} MB largest")
    found: dict[str, list[Run]] = {name: [] for name in cmds}
    for i in range(runs):
        for name in cmds:  # A B C A B C …
            run = cold(name, str(i), sample_tree=False)
            found[name].append(run)
            log(
                f"  N={n} cold {name:10} run {i + 1}/{runs}: {run.seconds:7.2f} s  {run.peak_mb:7.1f} MB"
                f"  (other load {run.other:.2f} cores)"
            )
            if i == 0:
                check_output(name, out, i, n, run)
    fresh(out)
    return found, trees


def check_output(name: str, out: Path, i: int, n: int, run: Run) -> None:
    """Each tool built the whole night: no benchmark of a half-empty site."""
    if name == "countnight":
        ok = f"{n} live" in run.stdout and "rejected 0" in run.stdout
    else:
        ok = (out / f"{name}-{i}" / "index.html").read_text().count("<article") == n
    if not ok:
        raise RuntimeError(f"{name} did not build all {n} entries:\n{run.stdout[-2000:]}")


@dataclass
class Watch:
    proc: subprocess.Popen[bytes]
    seconds: float  # from the start of the process until its first publish
    tree: TreeRss

    def memory_mb(self) -> tuple[float, float]:
        """(VmHWM of the watcher process, peak of it and its workers summed) once it has gone idle."""
        wait_idle([self.proc.pid])
        return vm_hwm_mb(self.proc.pid), self.tree.peak_mb

    def stop(self) -> None:
        stop(self.proc)
        self.tree.__exit__()


_WATCHING = re.compile(rb"(\d\d:\d\d:\d\d )?watching ")


def start_countnight_watch(root: Path, out: Path, logfile: Path, restart: bool = False) -> Watch:
    """A new ``countnight watch`` and the seconds until it has published.

    Into an empty ``out``: until index.html and live.json are both on disk. With ``restart``, into the site
    a previous run left there: until the watcher says the site is published, on its standard output (not
    -q): "…: up to date" when its quick check finds the site already what a build would make, else
    "watching …", which it prints once its first build has published. See warm_restarts.
    """
    if not restart:
        fresh(out)
        with logfile.open("ab") as sink:
            started = time.perf_counter()
            proc = subprocess.Popen(
                [COUNTNIGHT, "watch", "--root", root, "--out", out, "-q"], stdout=sink, stderr=subprocess.STDOUT
            )
        tree = TreeRss(proc.pid).__enter__()
        ready = wait_for([out / "index.html", out / "live.json"], None, START_TIMEOUT)
    else:
        said = threading.Event()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [COUNTNIGHT, "watch", "--root", root, "--out", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        tree = TreeRss(proc.pid).__enter__()
        moments: list[float] = []

        def drain() -> None:
            assert proc.stdout is not None
            with logfile.open("ab") as sink:
                for line in proc.stdout:
                    # "HH:MM:SS watching …": the console stamps its lines with the time
                    if not said.is_set() and (
                        b": up to date" in line or re.match(rb"(\d\d:\d\d:\d\d )?watching ", line)
                    ):
                        moments.append(time.perf_counter())
                        said.set()
                    sink.write(line)
                    sink.flush()

        threading.Thread(target=drain, daemon=True).start()
        ready = moments[0] if said.wait(START_TIMEOUT) else None
    watch = Watch(proc, float("nan") if ready is None else ready - started, tree)
    if ready is None or proc.poll() is not None:
        watch.stop()
        raise RuntimeError(f"countnight watch did not publish; see {logfile}")
    return watch


def warm_restarts(base: Path, night: workload.Night, runs: int) -> dict[str, list[float]]:
    """Restarts after cold_builds, which leave the last build's ``.countnight/`` and its site in place.

    A restart is countnight started again on a blog folder whose ``.countnight/`` state and published
    site are still there. Each run, every one a new process after settle():

    - ``build``: ``countnight build`` into that same site, timed to exit;
    - ``watch``: ``countnight watch`` on it, timed from the start of the process until it says the site
      is published (start_countnight_watch): its quick check (uptodate.py) says so when nothing changed
      since the site was recorded, before the build's libraries are even loaded; the watcher then loads
      and builds everything in the background, as before, and is measured for memory once idle;
    - ``changed``: one new entry (workload.drop_item, tag ``r<run>``) written into entries/ while
      nothing runs, then ``countnight build`` timed to exit; its id must be in index.html. The entry
      is then removed and the site rebuilt, untimed, so the runs after it start from the same state;
    - ``empty``: ``countnight build`` into an empty folder, the state still kept: the cost of writing
      every file (the earlier definition of this figure).
    """
    n = night.n
    root, site, out = base / "countnight", countnight_site(base), base / "out"
    build = [COUNTNIGHT, "build", "--root", root, "--out", site]
    keys = ("build", "watch", "changed", "empty")
    found: dict[str, list[float]] = {k: [] for k in keys}
    found |= {f"{k}_{m}": [] for k in ("build", "changed", "empty") for m in ("rss_mb", "tree_mb")}
    found |= {"watch_hwm_mb": [], "watch_tree_mb": []}

    def measured(key: str, run: Run) -> None:
        found[key].append(run.seconds)
        found[f"{key}_rss_mb"].append(run.peak_mb)
        found[f"{key}_tree_mb"].append(run.tree_mb)

    for i in range(runs):
        settle(settle_limit)
        restart = timed(build)
        measured("build", restart)
        settle(settle_limit)
        watch = start_countnight_watch(root, site, base / "watch.log", restart=True)
        hwm, tree = watch.memory_mb()
        watch.stop()
        found["watch"].append(watch.seconds)
        found["watch_hwm_mb"].append(hwm)
        found["watch_tree_mb"].append(tree)
        item = workload.drop_item(night, i, f"r{i}")
        entry = root / "entries" / f"{item.id}.md"
        try:
            entry.write_text(workload.countnight_text(item))
            settle(settle_limit)
            changed = timed(build)
            if item.id.encode() not in (site / "index.html").read_bytes():
                raise RuntimeError(f"the restart did not publish the new entry {item.id}:\n{changed.stdout[-2000:]}")
            measured("changed", changed)
        finally:
            entry.unlink(missing_ok=True)
        tidy = subprocess.run(list(map(str, build)), capture_output=True, text=True)
        if tidy.returncode != 0:
            raise RuntimeError(f"countnight build after removing {item.id} exited {tidy.returncode}:\n{tidy.stderr}")
        settle(settle_limit)
        empty = timed([COUNTNIGHT, "build", "--root", root, "--out", fresh(out / "restart-build")])
        measured("empty", empty)
        log(
            f"  N={n} warm restart run {i + 1}/{runs}: build {restart.seconds:6.2f} s, "
            f"watch → published {watch.seconds:6.2f} s ({hwm:.0f} MB, with workers {tree:.0f} MB), "
            f"one entry changed {changed.seconds:6.2f} s, into an empty folder {empty.seconds:6.2f} s"
        )
    fresh(out)
    fresh(site)
    return found


def drops(base: Path, night: workload.Night, count: int) -> dict[str, object]:
    """Both watchers up on the same night; the same new entry dropped into each in turn, ``count`` times."""
    n = night.n
    root, hugo_root, out = base / "countnight", base / "hugo", base / "out"
    fresh(root / ".countnight")
    fresh(hugo_root / "resources")
    watch_out, hugo_pub = fresh(out) / "watch", out / "hugo-public"
    cn = start_countnight_watch(root, watch_out, base / "watch.log")
    cn_proc, cn_start = cn.proc, cn.seconds
    log(f"  N={n} countnight watch: first publish after {cn_start:.2f} s (cold .countnight/)")
    hugo_log = (base / "hugo-server.log").open("ab")
    started = time.perf_counter()
    hugo_cmd = ["hugo", "server", "--source", hugo_root, "--destination", hugo_pub, "--renderToDisk"]
    # Hugo's defaults otherwise (fast render on): --disableFastRender re-renders all N pages on every change
    # and was 4–8× slower here, so the default is the stronger peer. Live reload off: no browser is connected.
    hugo_cmd += ["--disableLiveReload", "--bind", "127.0.0.1", "--port", str(free_port())]
    hugo_cmd += ["--cacheDir", out / "hugo-cache"]
    hugo_proc = subprocess.Popen(list(map(str, hugo_cmd)), stdout=hugo_log, stderr=subprocess.STDOUT)
    last_bulk = night.items[-1].id.encode()
    ready = wait_for([hugo_pub / "index.html"], last_bulk, START_TIMEOUT)
    if ready is None:
        cn.stop()
        stop(hugo_proc)
        raise RuntimeError(f"hugo server did not render; see {base / 'hugo-server.log'}")
    hugo_start = ready - started
    log(f"  N={n} hugo server: first render after {hugo_start:.2f} s")
    latencies: dict[str, list[float | None]] = {"countnight": [], "hugo": []}
    dropped: list[Path] = []
    try:
        for k in range(count):
            settle(min(settle_limit, 10.0))
            item = workload.drop_item(night, k, "b")
            needle = f'id="{item.id}"'.encode()
            for name, proc, folder, text, targets in (
                ("countnight", cn_proc, root / "entries", workload.countnight_text(item), ["index.html", "live.json"]),
                ("hugo", hugo_proc, hugo_root / "content" / "posts", workload.hugo_text(item), ["index.html"]),
            ):
                wait_idle([cn_proc.pid, hugo_proc.pid])
                # live.json holds the id as JSON ("id": "…"), the pages as id="…"
                needles = needle if name == "hugo" else item.id.encode()
                tmp = folder.parent / ".tmpdrop" if name == "countnight" else hugo_root / ".tmpdrop"
                tmp.write_text(text)
                target = folder / f"{item.id}.md"
                base_dir = watch_out if name == "countnight" else hugo_pub
                t0 = time.perf_counter()
                os.rename(tmp, target)
                dropped.append(target)
                found = wait_for([base_dir / t for t in targets], needles, DROP_TIMEOUT)
                latencies[name].append(None if found is None else found - t0)
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} watcher exited during drop {k}")
            cn_ms, hugo_ms = (_ms(latencies[p][-1]) for p in ("countnight", "hugo"))
            log(f"  N={n} drop {k + 1:3}/{count}: countnight {cn_ms:>8} ms   hugo server {hugo_ms:>8} ms")
        wait_idle([cn_proc.pid, hugo_proc.pid])
        cn_hwm, cn_tree = cn.memory_mb()
        hwm = {"countnight": cn_hwm, "countnight_tree": cn_tree, "hugo": vm_hwm_mb(hugo_proc.pid)}
    finally:
        cn.stop()
        stop(hugo_proc)
        hugo_log.close()
        for path in dropped:
            path.unlink(missing_ok=True)
        fresh(root / ".countnight")
        fresh(out)
    return {"latency": latencies, "start": {"countnight": cn_start, "hugo": hugo_start}, "hwm_mb": hwm}


def _ms(seconds: float | None) -> str:
    return "timeout" if seconds is None else f"{seconds * 1000:.1f}"


# -- summary ---------------------------------------------------------------------------------------


def stats(values: Sequence[float | None]) -> dict[str, float] | None:
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    p95 = statistics.quantiles(xs, n=20, method="inclusive")[18] if len(xs) > 1 else xs[0]
    return {"median": statistics.median(xs), "p95": p95, "min": xs[0], "max": xs[-1], "n": len(xs)}


def pairs(a: Sequence[float | None], b: Sequence[float | None]) -> list[float | None]:
    """a[i] / b[i] for each iteration; None where either timed out."""
    return [x / y if x is not None and y is not None else None for x, y in zip(a, b, strict=True)]


def fmt(s: dict[str, float] | None, unit: str = "s", scale: float = 1.0, digits: int = 2) -> str:
    if s is None:
        return "—"
    m, lo, hi, p95 = (s[k] * scale for k in ("median", "min", "max", "p95"))
    extra = f", p95 {p95:.{digits}f}" if s["n"] >= 10 else ""
    space = "" if unit == "×" else " "
    return f"{m:.{digits}f}{space}{unit} ({lo:.{digits}f}–{hi:.{digits}f}{extra})"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**met**" if ok else "**not met**")


def summarise(size: dict[str, object]) -> tuple[list[list[str]], dict[str, object]]:
    """Table rows and the figures they show, for one N."""
    n = size["n"]
    cold: dict[str, list[float]] = size["cold"]  # type: ignore[assignment]
    rss: dict[str, list[float]] = size["cold_rss_mb"]  # type: ignore[assignment]
    tree: dict[str, list[float]] = size["cold_tree_mb"]  # type: ignore[assignment]
    other: dict[str, list[float]] = size["cold_other_cores"]  # type: ignore[assignment]
    restart: dict[str, list[float]] = size["restart"]  # type: ignore[assignment]
    drop: dict[str, object] = size["drop"]  # type: ignore[assignment]
    lat: dict[str, list[float | None]] = drop["latency"]  # type: ignore[index,assignment]
    hwm: dict[str, float] = drop["hwm_mb"]  # type: ignore[index,assignment]
    start: dict[str, float] = drop["start"]  # type: ignore[index,assignment]

    s = {k: stats(v) for k, v in cold.items()}
    vs_hugo = stats(pairs(cold["countnight"], cold["hugo"]))
    vs_pelican = stats(pairs(cold["pelican"], cold["countnight"]))
    cn_drop, hugo_drop = stats(lat["countnight"]), stats(lat["hugo"])
    drop_ratio = stats(pairs(lat["hugo"], lat["countnight"]))
    rb, rw = stats(restart["build"]), stats(restart["watch"])
    rc, rempty = stats(restart["changed"]), stats(restart["empty"])
    watch_hwm = max([hwm["countnight"], *restart["watch_hwm_mb"]])
    watch_tree = max([hwm["countnight_tree"], *restart["watch_tree_mb"]])
    watch_peak = max(watch_hwm, watch_tree)
    timeouts = {k: sum(v is None for v in vs) for k, vs in lat.items()}

    def x(r: dict[str, float] | None) -> str:
        return fmt(r, "×", digits=2)

    def med(r: dict[str, float] | None, key: str = "median") -> float:
        return r[key] if r is not None else float("inf")

    figures = {
        "cold_vs_hugo": med(vs_hugo) <= 1.0,
        "cold_vs_pelican": vs_pelican is not None and vs_pelican["median"] >= 4.0,
        "drop_median": med(cn_drop) <= 0.050 and not timeouts["countnight"],
        "drop_p95": med(cn_drop, "p95") <= 0.150 and not timeouts["countnight"],
        "drop_vs_hugo": drop_ratio is not None and drop_ratio["median"] >= 10.0,
        "restart": max(med(rb), med(rw)) <= 0.3,
        "memory": watch_peak <= 200,
    }
    rows = [
        [f"{n:,}", "cold full build, wall", fmt(s["countnight"]), fmt(s["hugo"]), fmt(s["pelican"])],
        [f"{n:,}", "cold build ÷ Hugo (pairwise)", x(vs_hugo), "", "", "≤ 1.0×", verdict(figures["cold_vs_hugo"])],
        [
            f"{n:,}",
            "Pelican ÷ cold build (pairwise)",
            x(vs_pelican),
            "",
            "",
            "≥ 4×",
            verdict(figures["cold_vs_pelican"]),
        ],
        [
            f"{n:,}",
            "cold build peak memory: largest process / whole tree",
            *(f"{statistics.median(rss[k]):.0f} / {statistics.median(tree[k]):.0f} MB" for k in TOOLS),
        ],
        [
            f"{n:,}",
            "drop → publish",
            fmt(cn_drop, "ms", 1000, 1),
            fmt(hugo_drop, "ms", 1000, 0),
            "",
            "median ≤ 50 ms, p95 ≤ 150 ms",
            verdict(figures["drop_median"] and figures["drop_p95"]),
        ],
        [f"{n:,}", "hugo server ÷ drop (pairwise)", x(drop_ratio), "", "", "≥ 10×", verdict(figures["drop_vs_hugo"])],
        [f"{n:,}", "restart, warm cache: `build` to exit", fmt(rb), "", "", "≤ 0.3 s", verdict(med(rb) <= 0.3)],
        [f"{n:,}", "restart, warm cache: `watch` to publish", fmt(rw), "", "", "≤ 0.3 s", verdict(med(rw) <= 0.3)],
        [f"{n:,}", "restart, warm cache, one entry changed while it was down: `build` to exit", fmt(rc), "", ""],
        [f"{n:,}", "rebuild into an empty folder, warm cache: `build` to exit", fmt(rempty), "", ""],
        [
            f"{n:,}",
            "watcher peak memory: VmHWM / with its workers",
            f"{watch_hwm:.0f} / {watch_tree:.0f} MB",
            f"{hwm['hugo']:.0f} MB (server)",
            "",
            "≤ 200 MB",
            verdict(figures["memory"]),
        ],
        [
            f"{n:,}",
            "other load during the cold builds (cores)",
            *(f"{statistics.median(other[k]):.2f} (max {max(other[k]):.2f})" for k in TOOLS),
        ],
        [f"{n:,}", "watcher cold start → first publish", f"{start['countnight']:.2f} s", f"{start['hugo']:.2f} s", ""],
    ]
    if any(timeouts.values()):
        rows.append([f"{n:,}", "drops that timed out", str(timeouts["countnight"]), str(timeouts["hugo"]), ""])
    for row in rows:
        row += [""] * (7 - len(row))
        if n != TARGET_N and row[6]:  # the targets are set at 10,000 entries
            row[6] = "(at 10,000)"
    return rows, figures


def table(rows: list[list[str]]) -> str:
    head = ["N", "figure", "countnight", "Hugo", "Pelican", "target (at 10,000)", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


_INTERPRETER = "import platform, sys; print(platform.python_version(), sys._base_executable)"


def machine() -> dict[str, str]:
    def field(path: str, name: str) -> str:
        with open(path) as f:
            return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith(name)), "?")

    cpu, mem = field("/proc/cpuinfo", "model name"), field("/proc/meminfo", "MemTotal")

    def out(cmd: list[str | Path], cwd: Path = REPO) -> str:
        return subprocess.run(list(map(str, cmd)), cwd=cwd, capture_output=True, text=True).stdout.strip()

    dirty = out(["git", "status", "--porcelain", "src"])
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        # countnight's and Pelican's interpreters: the same one (benchmarks/setup.sh), or the comparison is not fair
        "python countnight": out([REPO / ".venv" / "bin" / "python", "-c", _INTERPRETER]),
        "python pelican": out([PELICAN.parent / "python", "-c", _INTERPRETER]),
        "commit": out(["git", "rev-parse", "--short", "HEAD"]) + (" with uncommitted changes in src/" if dirty else ""),
        "countnight": out([COUNTNIGHT, "--version"]),
        "hugo": out(["hugo", "version"]).split(" BuildDate")[0],
        "pelican": "pelican " + out([PELICAN, "--version"]),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def src_digest() -> str:
    """What src/ holds now, to notice the code under test changing during a run."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "src").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def report(info: dict[str, str], args: argparse.Namespace, sizes: list[dict[str, object]]) -> str:
    rows: list[list[str]] = []
    for size in sizes:
        rows += summarise(size)[0]
    command = f".venv/bin/python benchmarks/run.py --sizes {args.sizes} --runs {args.runs} --drops {args.drops}"
    return "\n".join(
        [
            "# countnight benchmark: latest run",
            "",
            f"`{command}` — {info['date']}, commit {info['commit']}.",
            "",
            f"Machine: {info['nproc']} cores, {info['cpu']}, {info['memory']} RAM, Linux {info['kernel']}, "
            f"Python: countnight {info['python countnight']}, Pelican {info['python pelican']}. "
            f"Peers: {info['hugo']}; {info['pelican']}. {info['countnight']}.",
            "",
            "Other load on the machine, measured just before and after each size (cores busy, of "
            f"{info['nproc']}): "
            + ", ".join(f"N={s['n']:,}: {s['busy_before']:.2f} / {s['busy_after']:.2f}" for s in sizes)
            + ".",
            "",
            "Figures: median (min–max over the runs; p95 too where there are ≥ 10 samples). Ratios are taken "
            "pair by pair within the same iteration, then summarised. See BENCHMARKS.md for what each one means.",
            "",
            table(rows),
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="entry counts, comma-separated [1000,10000]")
    parser.add_argument("--runs", type=int, default=5, help="cold builds and restarts per tool and size [5]")
    parser.add_argument("--drops", type=int, default=30, help="entries dropped into each watcher per size [30]")
    parser.add_argument("--seed", type=int, default=workload.SEED, help="seeds the synthetic night")
    parser.add_argument(
        "--settle", type=float, default=60.0, help="seconds to wait for other load to end before each measurement [60]"
    )
    args = parser.parse_args(argv)
    global settle_limit
    settle_limit = args.settle
    missing = [str(p) for p in (COUNTNIGHT, PELICAN, GNU_TIME) if not p.exists()] + (
        [] if shutil.which("hugo") else ["hugo"]
    )
    if missing:
        log(f"missing: {', '.join(missing)}; run: bash benchmarks/setup.sh")
        return 2
    # countnight runs here from an editable install (pip install -e): its own sources have no bytecode, and
    # with PYTHONDONTWRITEBYTECODE set (as on this machine) every countnight process compiled them again,
    # ~0.1 s a start, and its theme's 18 templates, 65-135 ms. A regular install has them compiled, as the
    # peers' and the dependencies' installs do: `make compiled` compiles both, as `make run` and `make test` do.
    subprocess.run(["make", "-s", "compiled"], cwd=REPO, check=True)
    quiet_disk()
    info = machine()
    digest = src_digest()
    log(f"countnight benchmark on {info['nproc']} × {info['cpu']}, commit {info['commit']}")
    sizes: list[dict[str, object]] = []
    for n in (int(s) for s in args.sizes.split(",")):
        base = WORK / str(n)
        night = workload.write_all(base, n, args.seed, discard=fresh)
        busy = busy_cpus(2.0)
        log(f"N={n}: wrote the night to {base}; other load before starting: {busy:.2f} of {os.cpu_count()} cores")
        if busy > 0.2:
            log("  warning: something else is using the CPU; these figures will be noisy")
        cold, trees = cold_builds(base, n, args.runs)
        restart = warm_restarts(base, night, args.runs)
        drop = drops(base, night, args.drops)
        sizes.append(
            {
                "n": n,
                "cold": {k: [r.seconds for r in v] for k, v in cold.items()},
                "cold_rss_mb": {k: [r.peak_mb for r in v] for k, v in cold.items()},
                "cold_tree_mb": {k: [mb] for k, mb in trees.items()},  # from the sampled, untimed run
                "cold_other_cores": {k: [r.other for r in v] for k, v in cold.items()},
                "restart": restart,
                "drop": drop,
                "busy_before": busy,
                "busy_after": busy_cpus(2.0),
            }
        )
    empty_trash()
    after = machine()["commit"]
    if after != info["commit"] or src_digest() != digest:
        info["commit"] += f"; src/ changed during the run (now {after})"
        log(f"warning: src/ changed during the run (now {after})")
    text = report(info, args, sizes)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(text)
    verdicts = {str(s["n"]): summarise(s)[1] for s in sizes}
    data = {"machine": info, "args": vars(args), "sizes": sizes, "targets_met": verdicts}
    (RESULTS / "latest.json").write_text(json.dumps(data, indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
