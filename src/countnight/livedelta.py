"""The live channel's message for one build: only what open pages must change.

A build's ``Changes`` (changes.py) name what readers see anew, corrected and taken down, and carry the new
``live.json``, which holds each of those entries' HTML and every panel of the index. The channel keeps the
panels it sent last and sends only those that changed: whole, or by their changed lines where that is
much smaller (a seat's row in a follow list of 650, a party's row of the seats). Nothing here reaches into
the build.

The message is one JSON object, the same whether it is pushed (the nchan channel, the preview's event
stream) or fetched by a polling page (``live/SEQ.json``)::

    {"seq": 12, "reset": false, "ended": false,
     "entries": [{id, kind, time, updated, title, rev, html, ...}],   # new and corrected, as in live.json
     "withdrawn": ["id", ...],                                        # taken off readers' pages
     "panels": {"key_events": {"rev": R, "html": H},                  # a panel whole,
                "follow": {"rev": R, "from": R0, "lines": [[AT, CUT, [LINE, ...]], ...]}}}  # or its lines

A page applies a lines change (CUT lines from line AT replaced, the HTML split at newlines, the runs in
order of AT) only to the HTML it holds for the panel at revision ``from``; otherwise it reloads live.json.
``reset`` tells pages to reload live.json (the channel has no earlier build of this process to compare with).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .changes import LiveDelta
from .jsontext import compact

LINES_WORTH_IT = 2  # send changed lines instead of the panel when they are at most half its size
MAX_DIFF = 1 << 16  # characters: a changed middle this big is sent as one run, not compared line by line


@dataclass(frozen=True)
class PanelState:
    """A panel of the index as live.json carries it."""

    rev: str
    html: str


@dataclass(frozen=True)
class LiveState:
    """What the channel needs of a live.json: the entries (raw JSON objects by id), the panels, the end."""

    entries: Mapping[str, Any]
    panels: Mapping[str, PanelState]
    ended: bool


def read_live(data: bytes) -> LiveState:
    """live.json's bytes → LiveState (ValueError when they are not live.json)."""
    live = json.loads(data)
    if not isinstance(live, dict):
        raise ValueError("live.json is not an object")
    entries = {e["id"]: e for e in live.get("entries", ()) if isinstance(e, dict) and "id" in e}
    panels = {
        name: PanelState(str(p["rev"]), str(p["html"]))
        for name, p in (live.get("panels") or {}).items()
        if isinstance(p, dict) and "rev" in p and "html" in p
    }
    return LiveState(entries, panels, live.get("ended") is True)


def panel_change(before: PanelState | None, after: PanelState) -> dict[str, Any] | None:
    """What a page needs to bring ``before`` to ``after``: None when nothing changed, else the panel whole or
    its changed lines (only when they are much smaller)."""
    if before is not None and before.rev == after.rev:
        return None
    whole: dict[str, Any] = {"rev": after.rev, "html": after.html}
    if before is None:
        return whole
    lines = changed_lines(before.html, after.html)
    if len(compact(lines)) * LINES_WORTH_IT > len(after.html):
        return whole
    return {"rev": after.rev, "from": before.rev, "lines": lines}


def changed_lines(before: str, after: str) -> list[list[Any]]:
    """[line, how many lines to cut, the new lines] for each run of lines that differs, in order."""
    old, new = before.split("\n"), after.split("\n")
    if len(old) == len(new):  # rows replaced in place, each as long as before: one pass
        runs: list[list[Any]] = []
        for at, (a, b) in enumerate(zip(old, new, strict=True)):
            if a == b:
                continue
            if runs and runs[-1][0] + runs[-1][1] == at:
                runs[-1][1] += 1
                runs[-1][2].append(b)
            else:
                runs.append([at, 1, [b]])
        return runs
    # A row grew or shrank (a seat declared: one line more): what differs lies between the lines both share
    # at the start and at the end; only that middle is compared line by line, and only when it is small.
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    old_mid, new_mid = old[start : len(old) - end], new[start : len(new) - end]
    if sum(map(len, old_mid)) + sum(map(len, new_mid)) > MAX_DIFF:
        # A big middle: a count at the top changed, and a row far below it grew. difflib would take ~0.2 s on
        # 2,600 lines; a walk that resyncs after each difference takes a pass.
        return [[start + at, cut, lines] for at, cut, lines in _resynced(old_mid, new_mid)]
    matcher = difflib.SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    return [[start + i1, i2 - i1, new_mid[j1:j2]] for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


ANCHOR = 4  # equal lines in a row that say the two sides are in step again (a row of a list is ~4 lines)
RESYNC_WITHIN = 64  # lines skipped on both sides together before the rest is sent as one run


def _resynced(old: list[str], new: list[str]) -> list[list[Any]]:
    """The runs that make ``new`` from ``old``: equal lines are walked in step; at a difference, the nearest
    point (fewest lines skipped on both sides) where ANCHOR lines agree again, or both sides end, closes the
    run. Only equal lines are ever kept, so applying the runs gives ``new`` exactly, whatever it resyncs on."""
    runs: list[list[Any]] = []
    i = j = 0
    n, m = len(old), len(new)
    while i < n and j < m:
        if old[i] == new[j]:
            i += 1
            j += 1
            continue
        found = _resync(old, i, new, j)
        if found is None:
            break
        di, dj = found
        runs.append([i, di, new[j : j + dj]])
        i, j = i + di, j + dj
    if i < n or j < m:
        runs.append([i, n - i, new[j:]])
    return runs


def _resync(old: list[str], i: int, new: list[str], j: int) -> tuple[int, int] | None:
    n, m = len(old), len(new)
    for skipped in range(1, RESYNC_WITHIN + 1):
        for di in range(skipped + 1):
            a, b = i + di, j + skipped - di
            if a > n or b > m:
                continue
            left = min(ANCHOR, n - a, m - b)
            if left < ANCHOR and n - a != m - b:
                continue  # near the end, only both ending together with the same lines is in step
            if old[a : a + left] == new[b : b + left]:
                return di, skipped - di
    return None


def encode_message(
    delta: LiveDelta,
    state: LiveState,
    seq: int,
    sent: Mapping[str, PanelState] | None,
    *,
    reset: bool = False,
    ended_sent: bool = False,
    revs_sent: Mapping[str, str] | None = None,
) -> bytes | None:
    """The message numbered ``seq`` for a build's ``delta`` and its live.json (``state``), against the panels
    pages were last ``sent`` (None: none yet, so every panel goes whole). None when there is nothing to send
    (an end of coverage already sent is not news).

    ``revs_sent``: each entry's revision in the live.json of the last message. An entry whose revision
    changed though the build names it neither new nor corrected (a template or the baseline changed, and
    with them how it looks) is sent too, as a correction."""
    panels: dict[str, Any] = {}
    entries: list[str] = []
    if not reset:
        for name, panel in state.panels.items():
            change = panel_change(sent.get(name) if sent is not None else None, panel)
            if change is not None:
                panels[name] = change
        # Newest first, as the build names them; a summary is a panel, never an entry (live.json has none).
        named = [i for i in (*delta.new, *delta.corrected) if i in state.entries]
        if revs_sent is not None:
            seen = set(named)
            named += [
                i for i, e in state.entries.items() if i not in seen and i in revs_sent and revs_sent[i] != e.get("rev")
            ]
        entries = [compact(state.entries[i]) for i in named]
    if not (entries or delta.withdrawn or panels or reset or (state.ended and not ended_sent)):
        return None
    head = compact({"seq": seq, "reset": reset, "ended": state.ended})
    tail = compact({"withdrawn": list(delta.withdrawn), "panels": panels})
    return f'{head[:-1]},"entries":[{",".join(entries)}],{tail[1:]}'.encode()
