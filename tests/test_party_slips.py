"""A party typed with a slip ("Labor", "Conservatve") is an error that says which party was meant; a party
countnight does not know at all is published as written (small parties and independents are real) with a
warning in ``check``, ``build`` and the watcher's console. Every real party of 2024 is accepted."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import AFTER_THE_NIGHT, CONFIG, BlogMaker
from console_watch import watching
from countnight.cli import main
from countnight.config import parse_config
from countnight.entries import parse_entry
from countnight.errors import InputError
from countnight.models import Context
from countnight.parties import _PARTIES, is_known, near_party, party_code, party_name
from countnight.site import Site

DATA = Path(os.environ.get("COUNTNIGHT_DATA") or Path(__file__).resolve().parents[2] / "shared/data/ge2024")
EVENT = parse_config(CONFIG.encode(), "countnight.toml")


def result(*parties: str) -> str:
    lines = "".join(f"  - {{name: Candidate {n}, party: '{p}', votes: {100 - n}}}\n" for n, p in enumerate(parties))
    return f'---\nkind: result\ntime: "02:16"\nconstituency: Burton and Uttoxeter\ncandidates:\n{lines}---\n'


def problems_of(text: str) -> list[str]:
    try:
        parse_entry(text.encode(), "entries/0216-burton.md", Context(EVENT.window))
    except InputError as err:
        return [str(p) for p in err.problems]
    return []


def slips(word: str) -> set[str]:
    """One slip of a typist in ``word``: a letter dropped, doubled, swapped with the next, or another in its place."""
    found = set()
    for i in range(len(word)):
        found.add(word[:i] + word[i + 1 :])
        found.add(word[:i] + word[i] + word[i:])
        if i + 1 < len(word):
            found.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
        found.add(word[:i] + ("x" if word[i].lower() != "x" else "q") + word[i + 1 :])
    return found - {word}


def test_the_issues_slips_are_errors_naming_the_party_meant() -> None:
    assert problems_of(result("Labor", "Conservatve", "Lib Dem")) == [
        "entries/0216-burton.md:6: candidates[1].party: 'Labor' is not a party countnight knows: did you mean "
        "Labour? (write Lab or Labour)",
        "entries/0216-burton.md:7: candidates[2].party: 'Conservatve' is not a party countnight knows: did you "
        "mean Conservative? (write Con or Conservative)",
    ]


NAMES = sorted({(name, p.code) for p in _PARTIES for name in (p.name, p.subject, *p.aliases) if len(name) >= 5})


@pytest.mark.parametrize(("name", "code"), NAMES, ids=[n for n, _ in NAMES])
def test_every_slip_of_every_known_party_name_is_refused_or_read_as_that_party(name: str, code: str) -> None:
    """Each one-letter slip of every name and alias we know: read as the party (a slip that is another of its
    names), or refused with "did you mean" that party; never published as a party of its own."""
    refused = 0
    for typo in sorted(slips(name)):
        if is_known(party_code(typo)):
            continue  # "Greens" → "Green": another of its names (or a name of a party it is spelt like)
        near = near_party(typo)
        if len(typo.replace(" ", "")) < 5:
            continue  # a short code of its own: see test_short_codes_of_real_parties_are_never_refused
        assert near is not None, f"{typo!r} ({name} with a slip) would be published as a party of its own"
        found = problems_of(result(typo, "Con" if code != "Con" else "Lab"))
        assert found and f"did you mean {party_name(near)}?" in found[0], (typo, found)
        refused += 1
    assert refused > 0


def test_a_party_that_stood_in_2024_is_published_without_a_warning(blog: BlogMaker) -> None:
    """Countnight has no colour or phrasing for the Heritage Party or the Monster Raving Loony Party, but they
    are real: by the Library's name or abbreviation, no warning (the shipped 2024 candidates file)."""
    root = blog({"entries/0216-burton.md": result("Lab", "HPUK", "Monster Raving Loony", "The Heritage Party", "TUSC")})
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.live == 1 and not report.problems and report.notices == []


def test_short_codes_of_real_parties_are_never_refused() -> None:
    """SSP, BNP, ED and Lib (the Liberal Party) are one letter from SNP, LD and Lab, and stand: a code of four
    letters or fewer is never taken for a slip; one close to ours gets a hint in the warning instead."""
    for code in ("SSP", "BNP", "ED", "Lib", "SEP", "CF", "TUSC", "Lb"):
        assert problems_of(result("Lab", code)) == [], code


@pytest.mark.skipif(not DATA.is_dir(), reason=f"the GE2024 data files are not in {DATA}")
def test_every_party_of_2024_is_accepted() -> None:
    with (DATA / "HoC-GE2024-results-by-candidate.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    written = sorted({r["Party name"] for r in rows} | {r["Party abbreviation"] for r in rows} - {""})
    assert len(written) > 150
    refused = [w for w in written if near_party(w) is not None]
    assert refused == []


UNKNOWN = result("Lab", "Yorkshire Independents", "Lb")


def test_an_unknown_party_is_published_with_a_warning_in_check_and_build(blog: BlogMaker) -> None:
    root = blog({"entries/0216-burton.md": UNKNOWN})
    run = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines() == [
        "entries/0216-burton.md:7: candidates[2].party: 'Yorkshire Independents' is not a party countnight knows: "
        "published as written, in grey (right for a small party or an independent)",
        "entries/0216-burton.md:8: candidates[3].party: 'Lb' is not a party countnight knows: published as "
        "written, in grey; if you meant Labour, write Lab (right for a small party or an independent)",
    ]
    assert run.stderr == "no problems, 2 warnings: checked countnight.toml and 1 entry file\n"
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.live == 1 and not report.problems
    assert len(report.notices) == 2
    built = CliRunner().invoke(main, ["build", "--root", str(root)])
    assert built.exit_code == 0 and built.stderr.count("warning: entries/0216-burton.md:") == 2


def test_the_console_warns_of_an_unknown_party_once(blog: BlogMaker) -> None:
    root = blog({"entries/0100-first.md": '---\ntime: "01:00"\ntitle: First\n---\nText.\n'})
    with watching(root) as watch:
        (root / "entries/0216-burton.md").write_text(UNKNOWN)
        watch.wait_for("published 0216-burton")
        watch.wait_for("'Lb'")
        (root / "entries/0300-other.md").write_text('---\ntime: "03:00"\ntitle: Other\n---\nText.\n')
        watch.wait_for("published 0300-other")
    text = watch.said
    assert text.count("warning entries/0216-burton.md:7: candidates[2].party: 'Yorkshire Independents'") == 1, text
    assert text.count("'Lb' is not a party") == 1, text


def test_a_slip_in_the_baselines_party_columns_or_winner_is_refused(tmp_path: Path) -> None:
    from countnight.baseline import load_baseline

    path = tmp_path / "baseline.csv"
    path.write_text("constituency,electorate,turnout,winner,Labor,Con\nStafford,70608,72.70,Conservatve,31.20,57.94\n")
    with pytest.raises(InputError) as caught:
        load_baseline(path, "baseline.csv")
    assert [str(p) for p in caught.value.problems] == [
        "baseline.csv:1: column 'Labor' is not a party countnight knows: did you mean Lab?"
    ]
    path.write_text("constituency,electorate,turnout,winner,Lab,Con\nStafford,70608,72.70,Conservatve,31.20,57.94\n")
    with pytest.raises(InputError) as caught:
        load_baseline(path, "baseline.csv")
    assert [str(p) for p in caught.value.problems] == [
        "baseline.csv:2: the previous winner 'Conservatve' is not a party countnight knows: did you mean Con?"
    ]


def test_a_version_readers_were_shown_before_these_rules_stays_live(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stricter rules apply to new versions: an entry published with "Labor" (or a placeholder) by an older
    countnight is reported, and readers keep seeing it, never taken down by the upgrade."""
    from countnight import entries, models

    root = blog(
        {
            "entries/0216-burton.md": result("Labor", "Con"),
            "entries/0645-summary.md": f'---\nkind: summary\ntime: "06:45"\n---\n{entries.PLACEHOLDERS["summary"]}\n',
        }
    )
    with monkeypatch.context() as older:  # the countnight before these rules
        older.setattr(models, "near_party", lambda text: None)
        older.setattr(entries, "_unfilled", lambda source: [])
        report = Site(root).build(AFTER_THE_NIGHT)
        assert report.live == 2 and not report.problems
    report = Site(root).build(AFTER_THE_NIGHT)
    assert {p.path for p in report.problems} == {"entries/0216-burton.md", "entries/0645-summary.md"}
    assert report.live == 2 and report.removed == []
    assert "Labor" in (root / "site/index.html").read_text()
    listed = CliRunner().invoke(main, ["list", "--root", str(root)])
    assert "readers see its last good version" in listed.stdout
