"""The site's two JSON files: ``live.json``, what open pages poll, and ``results.json``, every declared result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .jsontext import compact
from .night import Night, Panel
from .render import Theme, entry_rev
from .views import EntryView, memo

LIVE_JSON_ENTRIES = 50
_PANELS_JSON: dict[tuple[tuple[str, str], ...], str] = {}  # the panels' revisions → their JSON (live_json); one kept


def live_json(night: Night, theme: Theme, panels: Mapping[str, Panel]) -> bytes:
    """What open pages poll: the newest entries with their HTML, the ids now withdrawn, and the panels.

    Each entry's part is encoded once per version (kept with its view): the file is the same JSON as
    encoding it whole, for a fiftieth of the work on every build.
    """
    entries = ",".join(
        memo(v, f"live.json {theme.fingerprint}", lambda v=v: compact(_live_entry(night, theme, v)))
        for v in night.shown[:LIVE_JSON_ENTRIES]
    )
    head = compact({"generated": night.now.isoformat(timespec="seconds"), "ended": night.ended})
    revs = tuple((name, p.rev) for name, p in panels.items())
    panels_json = _PANELS_JSON.get(revs)
    if panels_json is None:  # the follow list alone is hundreds of KB: encode the panels when they change
        panels_json = compact({name: {"rev": p.rev, "html": str(p.html)} for name, p in panels.items()})
        _PANELS_JSON.clear()
        _PANELS_JSON[revs] = panels_json
    tail = f'{{"withdrawn":{compact(sorted(night.withdrawn))},"panels":{panels_json}}}'
    return f'{head[:-1]},"entries":[{entries}],{tail[1:]}'.encode()


def _live_entry(night: Night, theme: Theme, v: EntryView) -> dict[str, Any]:
    return {
        "id": v.id,
        "kind": v.kind,
        "time": v.time_iso,
        "updated": v.updated_iso,
        "title": v.headline,
        "breaking": v.entry.breaking,
        "key": v.entry.key,
        "pinned": v.entry.pinned,
        "rev": entry_rev(theme.fingerprint, v),
        "html": night.fragments[v.id],
    }


def results_json(night: Night) -> bytes:
    """Every declared result (SPEC's shape) with the seat tally; one result a line."""
    records = [
        memo(view, "results.json", lambda view=view: _record_json(view))
        for view in sorted(night.results, key=lambda v: (v.entry.constituency or "").casefold())
    ]
    tally = compact(night.scoreboard.as_dict())
    return ('{"results":[\n' + ",\n".join(records) + "\n]," + tally[1:] + "\n").encode()


def _record_json(view: EntryView) -> str:
    assert view.result is not None and view.entry.constituency is not None
    record = view.result.as_dict(view.entry.constituency, view.id)
    return compact(record)
