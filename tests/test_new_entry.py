"""``countnight new``: a file made by it never goes live until the reporter has filled it in, whatever the kind and
options, under ``build`` and under a running watcher; filled in, it goes live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, DURING_THE_NIGHT, BlogMaker
from console_watch import watching
from countnight.config import load_config
from countnight.entries import PLACEHOLDERS, parse_entry
from countnight.errors import InputError
from countnight.models import Context
from countnight.newentry import KINDS_NEW, write_new_entry
from countnight.site import Site

WITH_BASELINE = CONFIG + 'baseline = "baseline.csv"\n'
# What a reporter writes in place of what `new` left, kind by kind: (text `new` wrote, the reporter's).
FILLS: dict[str, list[tuple[str, str]]] = {
    "update": [("title: \n", "title: Counting under way\n"), (PLACEHOLDERS["update"], "The boxes are in.")],
    "summary": [(PLACEHOLDERS["summary"] + "\n\n- \n", "- Labour won Stafford\n")],
    "result": [
        ("  - {name: , party: , votes: }\n  - {name: , party: , votes: }\n",
         "  - {name: Leigh Ingham, party: Lab, votes: 17745}\n  - {name: Theo Clarke, party: Con, votes: 16150}\n"),
    ],
    "turnout": [("turnout:   #", "turnout: 65.39  #")],
    "quote": [("speaker: \n", "speaker: Leigh Ingham\n"), ("quote: \n", "quote: Thank you, Stafford.\n")],
}  # fmt: skip


def live_ids(root: Path) -> set[str]:
    try:
        return {e["id"] for e in json.loads((root / "site/live.json").read_text())["entries"]}
    except FileNotFoundError:
        return set()


def fill(path: Path, kind: str) -> None:
    text = path.read_text()
    for before, after in FILLS[kind]:
        if before in text:
            text = text.replace(before, after)
    path.write_text(text)


@pytest.mark.parametrize("title", [None, "Stafford declares"], ids=["no-title", "title"])
@pytest.mark.parametrize("kind", KINDS_NEW)
def test_a_file_new_made_is_not_published_until_it_is_filled_in(blog: BlogMaker, kind: str, title: str | None) -> None:
    root = blog({"baseline.csv": BASELINE}, config=WITH_BASELINE)
    event = load_config(root)
    path = write_new_entry(root, event, kind, constituency="Stafford", title=title, now=DURING_THE_NIGHT)
    site = Site(root)
    report = site.build(AFTER_THE_NIGHT)
    assert report.built and report.live == 0, f"{kind} went live as `new` wrote it:\n{path.read_text()}"
    assert {p.path for p in report.problems} == {f"entries/{path.name}"}
    assert all(p.line > 0 for p in report.problems)  # each names the line to fill in
    fill(path, kind)
    report = site.build(AFTER_THE_NIGHT)
    assert not report.problems, f"{report.problems}\n{path.read_text()}"
    assert report.live == 1 and [v.id for v in report.published] == [path.stem]


def test_the_summary_placeholder_says_where_and_what(blog: BlogMaker) -> None:
    root = blog()
    path = write_new_entry(root, load_config(root), "summary", constituency=None, title=None, now=DURING_THE_NIGHT)
    report = Site(root).build(AFTER_THE_NIGHT)
    name = f"entries/{path.name}"
    assert [str(p) for p in report.problems] == [
        f"{name}:6: body: '{PLACEHOLDERS['summary']}' is the placeholder `countnight new` wrote: write your text in "
        "its place (the entry goes live once it is filled in)",
        f"{name}:8: body: an empty list item ('-'): write the point or delete the line",
    ]


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ("- Labour won\n- Turnout fell\n", 0),
        ("A heading\n-\n\nText.\n", 0),  # a setext heading's underline, not a list item
        ("- Labour won\n-\n", 1),
        ("-\n", 1),
        ("Text.\n\n* \n", 1),
        ("1.\n", 1),
        ("- a\n  -\n", 1),
        ("-5 votes\n-\n", 0),  # "-5 votes" is text: the "-" under it underlines it
        (PLACEHOLDERS["update"].upper() + "\n", 1),
        ("Write the summary here, as a short list: Labour won.\n", 0),  # the reporter's own words after it
    ],
)
def test_what_counts_as_left_unfilled(body: str, problems: int) -> None:
    event = load_config_text()
    text = f'---\ntime: "23:00"\ntitle: A title\n---\n{body}'
    try:
        parse_entry(text.encode(), "entries/2300-x.md", Context(event.window))
        found = 0
    except InputError as err:
        found = len(err.problems)
    assert found == problems


def load_config_text():  # type: ignore[no-untyped-def]
    from countnight.config import parse_config

    return parse_config(CONFIG.encode(), "countnight.toml")


def test_a_running_watcher_never_publishes_a_file_new_made(blog: BlogMaker) -> None:
    """The issue's case: `new summary` (and `new update --title`) while `watch` runs."""
    root = blog({"entries/2300-first.md": '---\ntime: "23:00"\ntitle: First\n---\nWords.\n'})
    with watching(root) as watch:
        event = load_config(root)
        made = [
            write_new_entry(root, event, "summary", constituency=None, title=None, now=DURING_THE_NIGHT),
            write_new_entry(root, event, "update", constituency=None, title="Recount", now=DURING_THE_NIGHT),
        ]
        for path in made:
            watch.wait_for(f"rejected entries/{path.name}")
        assert live_ids(root) == {"2300-first"}
        assert "Write the" not in (root / "site/index.html").read_text()
        for path, kind in zip(made, ("summary", "update"), strict=True):
            fill(path, kind)
        watch.until(
            lambda: (
                live_ids(root) == {"2300-first", made[1].stem}
                and "Labour won Stafford" in (root / "site/index.html").read_text()
            ),
            "both filled in, published",
        )
