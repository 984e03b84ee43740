"""Who may use the desk (reporters, one-time links, sessions, the rate limit), the [desk] setting, and
candidates.csv from the Library's data: the parts of the desk the command line drives."""

from __future__ import annotations

import csv
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CONFIG
from countnight.cli import main
from countnight.config import parse_config
from countnight.desk.candidates import read_candidates_file
from countnight.desk.drop import read_log
from countnight.desk.guard import RateLimit
from countnight.desk.reporters import Reporters
from countnight.errors import InputError
from desk_support import DATA, SIX, make_desk_blog, official

NOW = datetime(2024, 7, 5, 2, 30, tzinfo=UTC)


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


# -- reporters, links and sessions ---------------------------------------------------------------------


def test_a_link_signs_in_once_and_only_its_hash_is_kept(tmp_path: Path) -> None:
    reporters = Reporters(tmp_path)
    token = reporters.add("Hannah Birch", "BBC Radio Stoke", False, NOW)
    stored = reporters.path.read_text()
    assert token not in stored and len(token) >= 43  # 256 bits, urlsafe base64
    assert stat.S_IMODE(reporters.path.stat().st_mode) == 0o600
    signed = reporters.sign_in(token, NOW)
    assert signed is not None
    who, session = signed
    assert (who.name, who.role, who.editor) == ("Hannah Birch", "BBC Radio Stoke", False)
    assert session not in reporters.path.read_text()
    assert reporters.session(session, NOW) == who
    assert reporters.sign_in(token, NOW) is None  # once
    assert reporters.session(session, NOW + timedelta(hours=37)) is None  # a night and a morning
    assert reporters.session("made-up", NOW) is None and reporters.session(None, NOW) is None


def test_links_expire_a_new_link_replaces_the_old_and_removal_ends_sessions(tmp_path: Path) -> None:
    reporters = Reporters(tmp_path)
    old = reporters.add("Hannah Birch", "BBC Radio Stoke", False, NOW)
    assert reporters.sign_in(old, NOW + timedelta(days=8)) is None
    new = reporters.new_link("hannah birch", NOW)
    assert reporters.sign_in(old, NOW) is None
    signed = reporters.sign_in(new, NOW)
    assert signed is not None
    assert reporters.remove("HANNAH BIRCH") == "Hannah Birch"
    assert reporters.session(signed[1], NOW) is None
    with pytest.raises(InputError, match="is not a reporter"):
        reporters.remove("Hannah Birch")


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [
        ("", "Radio", "NAME: must not be empty"),
        ("x" * 81, "Radio", "NAME: is 81 characters; at most 80"),
        ("Bell\x07", "Radio", "NAME: must not hold control characters"),
        ("Hannah", "\x1b[31m", "--role: must not hold control characters"),
    ],
)
def test_bad_names_and_roles_are_refused(tmp_path: Path, name: str, role: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        Reporters(tmp_path).add(name, role, False, NOW)
    assert str(caught.value) == message


def test_reporter_commands(tmp_path: Path) -> None:
    root = make_desk_blog(tmp_path / "night")
    code, out, err = run("reporter", "add", "Hannah Birch", "--role", "BBC Radio Stoke", "--root", root)
    assert code == 0 and out.startswith("http://127.0.0.1:8010/signin/") and "works once" in err
    (root / "countnight.toml").write_text(
        (root / "countnight.toml").read_text() + '\n[desk]\nurl = "https://desk.example.org/"\n'
    )
    code, out, _ = run("reporter", "add", "Tim Page", "--role", "Editor", "--editor", "--root", root)
    assert code == 0 and out.startswith("https://desk.example.org/signin/")
    code, out, err = run("reporter", "add", "tim page", "--role", "Editor", "--root", root)
    assert code == 1 and "'tim page' is already a reporter" in err
    code, out, _ = run("reporter", "list", "--root", root)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Hannah Birch\tBBC Radio Stoke\treporter\t0 session(s)")
    assert lines[1].startswith("Tim Page\tEditor\teditor")
    code, out, _ = run("reporter", "link", "Hannah Birch", "--url", "https://other.example/", "--root", root)
    assert code == 0 and out.startswith("https://other.example/signin/")
    code, out, _ = run("reporter", "remove", "Hannah Birch", "--root", root)
    assert code == 0 and out == "removed Hannah Birch; their sessions are closed\n"
    code, _, err = run("reporter", "remove", "Nobody", "--root", root)
    assert code == 1 and err == "NAME: 'Nobody' is not a reporter (reporter list)\n"
    log = [(line["action"], line["detail"]) for line in read_log(root)]
    assert log == [
        ("added a reporter", "Hannah Birch"),
        ("added an editor", "Tim Page"),
        ("made a new sign-in link", "Hannah Birch"),
        ("removed", "Hannah Birch"),
    ]
    assert all("command line" in line["who"] for line in read_log(root))
    code, out, _ = run("reporter", "add", "Freelance Writer", "--root", root)  # SPEC: --role is optional
    assert code == 0 and ("Freelance Writer", "") in [(w.name, w.role) for w, _ in Reporters(root).all()]


def test_the_desk_setting_in_the_config() -> None:
    head = CONFIG.encode()
    assert parse_config(head, "countnight.toml").desk.approval is False
    assert parse_config(head + b"[desk]\napproval = true\n", "countnight.toml").desk.approval is True
    with pytest.raises(InputError) as caught:
        parse_config(head + b"[desk]\napproval = true\naproval = 1\n", "countnight.toml")
    assert str(caught.value) == "countnight.toml:8: desk.aproval: unknown setting (did you mean 'approval'?)"


def test_the_rate_limit_per_client_and_overall() -> None:
    limit = RateLimit(per_client=3, overall=5, window=60)
    assert [limit.allow("a", t) for t in range(5)] == [True, True, True, False, False]
    assert [limit.allow(f"b{n}", 10) for n in range(4)] == [True, True, False, False]  # 5 in all
    assert limit.allow("a", 61) is True  # the window moved on


# -- candidates.csv ------------------------------------------------------------------------------------


def test_baseline_and_replay_write_candidates_in_ballot_order(tmp_path: Path) -> None:
    root = tmp_path / "night"
    root.mkdir()
    code, out, _ = run("baseline", "--data", DATA, "--constituency", SIX, "--candidates", "--root", root)
    assert code == 0 and "wrote" in out and "(6 candidates, for the desk)" in out
    rows = list(csv.DictReader((root / "candidates.csv").open()))
    assert {r["constituency"] for r in rows} == {SIX}
    surnames = [r["name"].split()[-1] for r in rows]
    assert surnames == sorted(surnames, key=str.casefold)  # as on the ballot paper
    assert sorted((r["name"], r["party"]) for r in rows) == sorted((c.name, c.party) for c in official(SIX))
    rehearsal = tmp_path / "rehearsal"
    code, out, _ = run(
        "replay", "--data", DATA, "--constituency", "Stafford", "--instant", "--candidates", "--root", rehearsal
    )
    assert code == 0 and "(7 candidates, for the desk)" in out
    assert list(read_candidates_file(rehearsal)) == ["Stafford"]


def test_a_bad_candidates_file_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "candidates.csv").write_text("constituency,name,party\nStafford,Leigh Ingham,Lab\nStafford,,Con\n")
    with pytest.raises(InputError) as caught:
        read_candidates_file(tmp_path)
    assert str(caught.value) == "candidates.csv:3: name: empty"
    (tmp_path / "candidates.csv").write_text("seat,name\n")
    with pytest.raises(InputError, match=r"candidates.csv:1: needs the columns constituency, name, party"):
        read_candidates_file(tmp_path)
    assert read_candidates_file(tmp_path / "none") == {}


def test_the_desk_command_refuses_a_broken_folder_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "countnight.toml").write_text(CONFIG + "[desk]\napproval = maybe\n")
    code, _, err = run("desk", "--port", "0", "--root", tmp_path)
    assert code == 1 and err.startswith("countnight.toml:7: TOML syntax")
    code, out, _ = run("desk", "--help")
    assert code == 0 and "--port" in out and "TLS" in out
