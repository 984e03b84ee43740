"""Seats declared twice, worked out seat by seat between builds (seats.SeatNotices): after any sequence of
results coming, changing seat, being withdrawn, turning into another kind and going, the notices are exactly
those ``second_results`` gives over every result at that moment."""

from __future__ import annotations

import random

import pytest

from conftest import CONFIG
from countnight.config import parse_config
from countnight.entries import parse_entry
from countnight.models import Context, Entry
from countnight.seats import SeatNotices, second_results

SEATS = ["Stafford", "stafford", "Crewe & Nantwich", "Crewe and Nantwich", "Tamworth", "Lichfield"]
IDS = [f"0{h}{m:02d}-e{n}" for n, (h, m) in enumerate((h, m) for h in (1, 2, 3) for m in (5, 20, 40))]


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(parse_config(CONFIG.encode(), "countnight.toml").window)


def _entry(rng: random.Random, ident: str, context: Context) -> Entry:
    clock = f"0{ident[1]}:{ident[2:4]}"
    if rng.random() < 0.2:  # not a result (an update that was one, or will be)
        text = f'---\nkind: update\ntime: "{clock}"\ntitle: Still counting\n---\nBody.\n'
    else:
        status = rng.choice(["published", "published", "published", "withdrawn", "draft"])
        text = (
            f'---\nkind: result\ntime: "{clock}"\nconstituency: {rng.choice(SEATS)}\nstatus: {status}\n'
            f"candidates:\n  - {{name: Ann Able, party: Lab, votes: {rng.randint(100, 900)}}}\n"
            "  - {name: Bob Baker, party: Con, votes: 50}\n---\n"
        )
    return parse_entry(text.encode(), f"entries/{ident}.md", context)


@pytest.mark.parametrize("seed", range(8))
def test_kept_seat_by_seat_the_notices_are_those_of_every_result(context: Context, seed: int) -> None:
    rng = random.Random(seed)
    notices = SeatNotices()
    current: dict[str, Entry] = {}
    lines = {ident: rng.randint(0, 9) for ident in IDS}  # where each file names its seat (0: not known)

    def line_of(entry: Entry) -> int:
        return lines[entry.id]

    met = 0  # checks at which some seat was declared twice
    for step in range(200):
        ident = rng.choice(IDS)
        if ident in current and rng.random() < 0.3:  # gone: deleted, or no longer considered
            del current[ident]
            notices.change(ident, None)
        else:
            current[ident] = _entry(rng, ident, context)
            notices.change(ident, current[ident])
        if rng.random() < 0.05:  # the rules changed: everything is read anew
            notices.clear()
            for kept, entry in current.items():
                notices.change(kept, entry)
        if rng.random() < 0.7:  # several changes may come between two builds
            expected = [str(n) for n in second_results(current.values(), line_of)]
            assert notices.said(line_of) == expected, f"seed {seed}, step {step}"
            met += bool(expected)
    assert met > 10  # the case itself is met, many times over
