"""A deterministic election night of N entries, written out for countnight, Hugo and Pelican.

Every name and figure is synthetic ("Seat 0412", "Candidate A", "Reporter 07"): seeded random numbers,
never real results. The same items are written three ways so the peers render the same content:

- countnight: ``countnight.toml``, ``baseline.csv`` and ``entries/*.md`` as SPEC.md describes;
- Hugo: ``content/posts/*.md`` with YAML front matter; a result's candidates become a Markdown table,
  a quote a block quote, a turnout a line of figures (what countnight's theme shows, roughly);
- Pelican: ``content/*.md`` with Pelican's ``Key: value`` metadata and the same Markdown as Hugo.

Mix: 40% updates (two paragraphs and a list), 25% results (6–8 candidates, one declaration per seat),
20% turnouts (half as ballots with an electorate, half as a percent), 15% quotes. Bulk entries are
timed 22:00–11:00 on the countnight.toml window; drops made by the benchmark come after 11:00, so each
one is the newest entry and goes to the top of every peer's page.

Run on its own to look at a sample: ``python benchmarks/workload.py 1000 /tmp/night``.
"""

from __future__ import annotations

import random
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
BST = timezone(timedelta(hours=1))
START = datetime(2024, 7, 4, 22, 0, tzinfo=BST)
BULK_MINUTES = 13 * 60  # 22:00–11:00; drops go into 11:00–12:00
DROP_START = datetime(2024, 7, 5, 11, 0, tzinfo=BST)
RESERVED_SEATS = 128  # in the baseline but never declared in bulk: drops declare them
SEED = 2024

CONFIG = """\
# A synthetic benchmark night (benchmarks/workload.py): no real names or figures.
title = "Benchmark night: {n} synthetic entries"
timezone = "Europe/London"
coverage_start = "2024-07-04T22:00:00+01:00"
coverage_end = "2024-07-05T12:00:00+01:00"
editor = "Synthetic Editor"
baseline = "baseline.csv"
page_size = 20
base_url = "https://example.org/bench/"
"""
TAIL = ("Ind", "SDP", "Ind")  # the 6th to 8th candidates, after the five parties of the baseline
PARTY_NAMES = {"Lab": "Labour", "Con": "Conservative", "LD": "Liberal Democrat", "RUK": "Reform UK"}
PARTY_NAMES |= {"Green": "Green", "Ind": "Independent", "SDP": "SDP"}
BASE_PARTIES = ("Lab", "Con", "LD", "RUK", "Green")
LETTERS = "ABCDEFGH"

OPENERS = (
    "Verification in {seat} is {pace} under way, with {boxes} of {total} ballot boxes checked so far.",
    "The count in {seat} has {pace} reached the tables, and the counting agents are watching every bundle.",
    "Staff in {seat} report that postal votes are {pace} reconciled against the marked register.",
    "Candidates in {seat} have arrived at the count, which is moving {pace} by the look of the trays.",
)
MIDDLES = (
    "Agents for two parties are sampling the bundles and say it is closer than the last time.",
    "The returning officer expects a declaration within the next {hours} hours.",
    "A box from one of the rural wards arrived late because of roadworks, officials said.",
    "Nobody here is willing to call it yet, but the piles on the tables tell part of the story.",
    "The hall is quieter than usual; most activists went home after the exit poll.",
)
CLOSERS = (
    "We will bring you the declaration as soon as it happens.",
    "Expect a recount request if the gap stays under a few hundred votes.",
    "Our reporter at the count will have reaction from the candidates afterwards.",
    "The turnout figure is due once verification is complete.",
)
PACES = ("well", "steadily", "slowly", "only just", "quickly")
FACTS = (
    "Boxes verified: {boxes} of {total}",
    "Postal votes: {postal:,} returned",
    "Spoilt ballots so far: {spoilt}",
    "Declaration expected: {hhmm}",
    "Candidates standing: {cands}",
    "Counting staff on duty: {staff}",
)
QUOTES = (
    "Thank you to everyone who voted tonight, whoever you voted for. I will work hard for all of {seat}.",
    "It has been a long campaign and a long night. The people of {seat} have spoken and I respect that.",
    "We knocked on every door we could. Whatever happens next, {seat} deserves better than it has had.",
    "I want to thank the count staff, who have worked through the night so that every vote is counted.",
)


@dataclass(frozen=True)
class Seat:
    """A synthetic constituency and its previous (equally synthetic) result."""

    name: str
    electorate: int
    turnout: Decimal
    winner: str
    shares: dict[str, Decimal]


@dataclass(frozen=True)
class Item:
    """One entry, independent of any tool's file format."""

    id: str
    kind: str
    time: datetime
    title: str
    author: str
    body: str
    constituency: str | None = None
    candidates: tuple[tuple[str, str, int], ...] = ()
    electorate: int | None = None
    rejected: int | None = None
    turnout: Decimal | None = None
    ballots: int | None = None
    previous: Decimal | None = None
    speaker: str | None = None
    speaker_role: str | None = None
    quote: str | None = None
    breaking: bool = False
    key: bool = False
    exact_time: bool = False  # written as full ISO 8601 (drops) rather than "03:17"


@dataclass
class Night:
    n: int
    seats: list[Seat]
    items: list[Item]
    reserved: list[Seat] = field(default_factory=list)  # seats left for drops to declare


def _seat(rng: random.Random, number: int) -> Seat:
    raw = {p: rng.uniform(2, 40) if p in ("Lab", "Con") else rng.uniform(0.5, 15) for p in BASE_PARTIES}
    total = sum(raw.values())
    shares = {p: (Decimal(v * 100 / total)).quantize(Decimal("0.01")) for p, v in raw.items()}
    winner = max(shares, key=lambda p: shares[p])
    turnout = Decimal(rng.uniform(55, 72)).quantize(Decimal("0.01"))
    return Seat(f"Seat {number:04d}", rng.randrange(62_000, 82_000), turnout, winner, shares)


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def _update_body(rng: random.Random, seat: str) -> str:
    total = rng.randrange(40, 90)
    words = {"seat": seat, "pace": rng.choice(PACES), "boxes": rng.randrange(5, total), "total": total}
    words |= {"hours": rng.choice(("two", "three", "four")), "postal": rng.randrange(8000, 22000)}
    words |= {"spoilt": rng.randrange(20, 300), "hhmm": f"0{rng.randrange(1, 7)}:{rng.randrange(60):02d}"}
    words |= {"cands": rng.randrange(5, 10), "staff": rng.randrange(60, 200)}
    first = " ".join(t.format(**words) for t in (rng.choice(OPENERS), rng.choice(MIDDLES)))
    second = " ".join(t.format(**words) for t in [*rng.sample(MIDDLES, 2), rng.choice(CLOSERS)])
    facts = "\n".join(f"- {t.format(**words)}" for t in rng.sample(FACTS, rng.randrange(3, 6)))
    return f"{first}\n\n{second} *Figures are synthetic.*\n\n{facts}\n"


def _result(rng: random.Random, seat: Seat) -> tuple[tuple[tuple[str, str, int], ...], int]:
    """Candidates with distinct vote counts (no tie: countnight wants `winner:` for one) and the rejected."""
    k = rng.randrange(6, 9)
    ballots = int(seat.electorate * rng.uniform(0.52, 0.70))
    rejected = rng.randrange(50, 300)
    weights = [rng.uniform(8, 40) if i < 3 else rng.uniform(0.3, 6) for i in range(k)]
    valid = ballots - rejected
    votes = sorted({int(valid * w / sum(weights)) for w in weights}, reverse=True)
    while len(votes) < k:  # two equal counts collapsed in the set: nudge a new one in
        votes.append(votes[-1] - 1 - len(votes))
    pull = {"Lab": 3.0, "Con": 2.4, "RUK": 1.6, "LD": 1.2, "Green": 0.8}  # who tends to come first
    parties = sorted(pull, key=lambda p: rng.random() * pull[p], reverse=True) + list(TAIL[: k - len(pull)])
    return tuple((f"Candidate {LETTERS[i]}", parties[i], v) for i, v in enumerate(votes)), rejected


def _make(rng: random.Random, ident: str, kind: str, moment: datetime, seat: Seat, exact: bool = False) -> Item:
    author = f"Reporter {rng.randrange(1, 25):02d}"
    common = {"id": ident, "time": moment, "author": author, "constituency": seat.name, "exact_time": exact}
    if kind == "update":
        title = f"{seat.name}: {rng.choice(('count under way', 'verification latest', 'a long night', 'boxes in'))}"
        return Item(kind="update", title=title, body=_update_body(rng, seat.name), **common)  # type: ignore[arg-type]
    if kind == "result":
        candidates, rejected = _result(rng, seat)
        winner = candidates[0][1]
        verb = "hold" if winner == seat.winner else f"gain from {PARTY_NAMES[seat.winner]}"
        title = f"{PARTY_NAMES.get(winner, winner)} {verb} in {seat.name}"
        body = (
            f"{candidates[0][0]} wins {seat.name} with a majority of {candidates[0][2] - candidates[1][2]:,}. "
            f"{candidates[1][0]} is second. All figures here are synthetic.\n"
        )
        return Item(
            kind="result",
            title=title,
            body=body,
            candidates=candidates,
            electorate=seat.electorate,
            rejected=rejected,
            breaking=rng.random() < 0.2,
            key=rng.random() < 0.05,
            **common,  # type: ignore[arg-type]
        )
    if kind == "turnout":
        ballots = int(seat.electorate * rng.uniform(0.50, 0.72))
        percent = (Decimal(ballots) * 100 / Decimal(seat.electorate)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        as_ballots = rng.random() < 0.5
        return Item(
            kind="turnout",
            title=f"Turnout in {seat.name}",
            body=f"Turnout in {seat.name} is {percent}%, against {seat.turnout}% last time.\n",
            turnout=percent,
            ballots=ballots if as_ballots else None,
            electorate=seat.electorate if as_ballots else None,
            previous=seat.turnout,
            **common,  # type: ignore[arg-type]
        )
    speaker = f"Candidate {rng.choice(LETTERS[:4])}"
    return Item(
        kind="quote",
        title=f"{speaker} speaks in {seat.name}",
        body="Speaking after the declaration.\n",
        speaker=speaker,
        speaker_role=f"Candidate in {seat.name}",
        quote=rng.choice(QUOTES).format(seat=seat.name),
        **common,  # type: ignore[arg-type]
    )


def make_night(n: int, seed: int = SEED) -> Night:
    """N items, the same for the same (n, seed)."""
    rng = random.Random(f"{seed}:{n}")
    kinds = rng.choices(("update", "result", "turnout", "quote"), weights=(40, 25, 20, 15), k=n)
    declared = kinds.count("result")
    seats = [_seat(rng, i + 1) for i in range(declared + RESERVED_SEATS)]
    order = list(range(declared))
    rng.shuffle(order)  # which seat the i-th result declares
    minutes = sorted(rng.randrange(BULK_MINUTES) for _ in range(n))
    items: list[Item] = []
    results = 0
    for i, (kind, minute) in enumerate(zip(kinds, minutes, strict=True)):
        moment = START + timedelta(minutes=minute)
        if kind == "result":
            seat = seats[order[results]]
            results += 1
        else:
            seat = seats[rng.randrange(declared or 1)]
        ident = f"{_hhmm(moment).replace(':', '')}-{kind}-{seat.name.split()[1]}-{i:05d}"
        items.append(_make(rng, ident, kind, moment, seat))
    return Night(n, seats, items, reserved=seats[declared:])


def drop_item(night: Night, k: int, tag: str) -> Item:
    """The k-th entry a benchmark drops into a running watcher: newest of all, kinds in turn."""
    rng = random.Random(f"drop:{night.n}:{tag}:{k}")
    kind = ("update", "result", "turnout", "quote")[k % 4]
    seat = night.reserved[k % len(night.reserved)] if kind == "result" else rng.choice(night.seats)
    moment = DROP_START + timedelta(seconds=15 * (k + 1))  # up to 239 drops fit before 12:00
    return _make(rng, f"{_hhmm(moment).replace(':', '')}-drop-{tag}-{k:03d}", kind, moment, seat, exact=True)


# -- countnight ------------------------------------------------------------------------------------


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def countnight_text(item: Item) -> str:
    when = item.time.isoformat() if item.exact_time else _hhmm(item.time)
    lines = ["---", f"kind: {item.kind}", f"time: {_q(when)}"]
    if item.kind == "update":
        lines.append(f"title: {_q(item.title)}")
    if item.constituency:
        lines.append(f"constituency: {item.constituency}")
    lines += ["breaking: true"] * item.breaking + ["key: true"] * item.key
    lines += [f"author: {item.author}", "role: Synthetic Desk"]
    if item.kind == "result":
        lines += [f"electorate: {item.electorate}", f"rejected: {item.rejected}", "candidates:"]
        lines += [f"  - {{name: {n}, party: {p}, votes: {v}}}" for n, p, v in item.candidates]
    if item.kind == "turnout":
        lines.append(f"turnout: {item.turnout}")
        if item.ballots is not None:
            lines += [f"ballots: {item.ballots}", f"electorate: {item.electorate}"]
        lines.append(f"previous: {item.previous}")
    if item.kind == "quote":
        assert item.quote is not None
        lines += [f"speaker: {item.speaker}", f"speaker_role: {item.speaker_role}", f"quote: {_q(item.quote)}"]
    return "\n".join([*lines, "---", item.body])


def baseline_csv(seats: list[Seat]) -> str:
    rows = ["constituency,electorate,turnout,winner," + ",".join(BASE_PARTIES)]
    for s in seats:
        rows.append(
            f"{s.name},{s.electorate},{s.turnout},{s.winner}," + ",".join(str(s.shares[p]) for p in BASE_PARTIES)
        )
    return "\n".join(rows) + "\n"


def write_countnight(root: Path, night: Night) -> None:
    (root / "entries").mkdir(parents=True)
    (root / "countnight.toml").write_text(CONFIG.format(n=night.n))
    (root / "baseline.csv").write_text(baseline_csv(night.seats))
    for item in night.items:
        (root / "entries" / f"{item.id}.md").write_text(countnight_text(item))


# -- Hugo and Pelican: the same content as plain Markdown ----------------------------------------


def markdown_of(item: Item) -> str:
    """The body plus a rendered-ish Markdown form of the entry's data (what countnight shows as HTML)."""
    parts: list[str] = []
    if item.kind == "result":
        valid = sum(v for _, _, v in item.candidates)
        rows = [f"| {n} | {PARTY_NAMES.get(p, p)} | {v:,} | {v * 100 / valid:.1f}% |" for n, p, v in item.candidates]
        parts.append("\n".join(["| Candidate | Party | Votes | Share |", "| --- | --- | ---: | ---: |", *rows]))
        turnout = (valid + (item.rejected or 0)) * 100 / (item.electorate or 1)
        majority = item.candidates[0][2] - item.candidates[1][2]
        parts.append(f"**Majority:** {majority:,} · **Turnout:** {turnout:.1f}% · **Electorate:** {item.electorate:,}")
    elif item.kind == "turnout":
        change = (item.turnout or 0) - (item.previous or 0)
        parts.append(f"**Turnout: {item.turnout}%** ({change:+.1f} points on {item.previous}%)")
    elif item.kind == "quote":
        parts.append(f"> {item.quote}\n>\n> — {item.speaker}, {item.speaker_role}")
    parts.append(item.body.rstrip("\n"))
    return "\n\n".join(parts) + "\n"


def hugo_text(item: Item) -> str:
    front = [
        "---",
        f"title: {_q(item.title)}",
        f"date: {item.time.isoformat()}",
        f"author: {_q(item.author)}",
        f"kind: {item.kind}",
    ]
    if item.constituency:
        front.append(f"constituency: {_q(item.constituency)}")
    front += ["breaking: true"] * item.breaking
    return "\n".join([*front, "---", "", markdown_of(item)])


def pelican_text(item: Item) -> str:
    meta = [
        f"Title: {item.title}",
        f"Date: {item.time.isoformat()}",
        f"Category: {item.kind}",
        f"Slug: {item.id}",
        f"Author: {item.author}",
    ]
    return "\n".join([*meta, "", markdown_of(item)])


def write_hugo(root: Path, night: Night) -> None:
    posts = root / "content" / "posts"
    posts.mkdir(parents=True)
    shutil.copy(HERE / "hugo" / "config.toml", root / "config.toml")
    shutil.copytree(HERE / "hugo" / "layouts", root / "layouts")
    for item in night.items:
        (posts / f"{item.id}.md").write_text(hugo_text(item))


def write_pelican(root: Path, night: Night) -> None:
    content = root / "content"
    content.mkdir(parents=True)
    for item in night.items:
        (content / f"{item.id}.md").write_text(pelican_text(item))


def write_all(root: Path, n: int, seed: int = SEED, discard: Callable[[Path], object] = shutil.rmtree) -> Night:
    """root/countnight, root/hugo and root/pelican, each freshly written with the same N items.

    ``discard``: what becomes of an earlier night's folder (the benchmark moves it aside: see run.fresh).
    """
    night = make_night(n, seed)
    for name, writer in (("countnight", write_countnight), ("hugo", write_hugo), ("pelican", write_pelican)):
        folder = root / name
        if folder.exists():
            discard(folder)
        writer(folder, night)
    return night


if __name__ == "__main__":
    count, where = int(sys.argv[1]), Path(sys.argv[2])
    made = write_all(where, count)
    kinds = {k: sum(1 for i in made.items if i.kind == k) for k in ("update", "result", "turnout", "quote")}
    print(f"{count} entries in {where}: {kinds}; {len(made.seats)} seats")
