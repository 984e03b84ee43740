"""The live channel: each build's changes numbered and sent as files, to nchan in a real nginx, and as the
preview server's event stream; only what changed, panels by their changed lines where that is smaller."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DURING_THE_NIGHT, REPO, copy_sample
from countnight.changes import LiveDelta
from countnight.channel import CHANNEL_PATH, HEAD, PING, LiveChannel
from countnight.elections import Scoreboard
from countnight.livedelta import MAX_DIFF, LiveState, PanelState, _resynced, changed_lines, encode_message, panel_change
from countnight.oneoff import build_once
from countnight.render import load_theme
from countnight.report import BuildReport
from countnight.serve import PreviewServer
from countnight.site import Site
from countnight.uptodate import up_to_date

pytest.register_assert_rewrite("browser_support")
from browser_support import NGINX, TIMEOUT, Nginx, need, start_nginx  # noqa: E402

pytest_plugins = ["browser_support"]  # the nginx fixture

RESULT = (REPO / "entries" / "0338-stafford-result.md").read_text().replace('time: "03:38"', 'time: "03:29"')


def update(ident: str, title: str) -> str:
    return f'---\ntime: "03:29"\ntitle: {title}\n---\nWords for {ident}.\n'


@pytest.fixture
def night(tmp_path: Path) -> Iterator[tuple[Path, Site]]:
    root = copy_sample(tmp_path / "night")
    yield root, Site(root)


def build(site: Site) -> BuildReport:
    report = site.build(DURING_THE_NIGHT)
    assert report.built and not report.problems, report.problems
    return report


def send(site: Site, channel: LiveChannel) -> int | None:
    """Build with the channel among the site's outlets; the number of the message it sent (None: none)."""
    site.outlets = (channel,)
    before = channel.seq
    build(site)
    assert channel.flush(TIMEOUT)
    return channel.seq if channel.seq != before else None


def message(channel: LiveChannel, seq: int) -> dict[str, object]:
    return json.loads((channel.folder / f"{seq}.json").read_bytes())  # type: ignore[no-any-return]


def test_a_new_result_sends_its_entry_and_only_the_lines_that_changed(night: tuple[Path, Site]) -> None:
    root, site = night
    channel = LiveChannel(site.out)
    assert send(site, channel) == 1
    assert message(channel, 1)["reset"] is True  # a first build: pages reload live.json once
    (root / "entries" / "0329-stafford-result.md").write_text(RESULT)
    assert send(site, channel) == 2
    sent = message(channel, 2)
    assert [e["id"] for e in sent["entries"]] == ["0329-stafford-result"]  # type: ignore[index]
    panels = sent["panels"]
    assert isinstance(panels, dict)
    follow = panels["follow"]
    assert set(follow) == {"rev", "from", "lines"}  # the follow list by its changed lines: Stafford's row
    assert len(follow["lines"]) <= 2 and "Stafford" in json.dumps(follow["lines"])
    assert set(panels["scoreboard"]) == {"rev", "from", "lines"}  # by its changed lines: the count, a party's row
    assert all(cut <= 2 for _, cut, _ in panels["scoreboard"]["lines"])  # short runs of lines, not the table
    assert "pinned" not in panels and "summary" not in panels  # unchanged: not sent
    hexes = panels["map"]  # the results map by its changed lines: Stafford's hex (and the legend's counts)
    assert set(hexes) == {"rev", "from", "lines"}
    changed = json.dumps(hexes["lines"])
    assert changed.count("data-hex=") == 1 and "Stafford" in changed
    live = (site.out / "live.json").read_bytes()
    assert len((channel.folder / "2.json").read_bytes()) * 5 < len(live)

    # Nothing changed: nothing sent. A withdrawal: its id.
    assert send(site, channel) is None
    (root / "entries" / "0329-stafford-result.md").unlink()
    assert send(site, channel) == 3
    assert message(channel, 3)["withdrawn"] == ["0329-stafford-result"]
    head = json.loads((channel.folder / HEAD).read_bytes())
    assert head == {"seq": 3, "first": 1, "channel": False}


def test_a_party_that_gains_changes_its_own_lines_of_the_seats_and_no_other_partys(tmp_path: Path) -> None:
    """The seat bar's parts and the rows' bars are each sized by their own attribute, so a seat won by the first
    party moves none of the parties after it: the message carries the count and the two parties' lines."""
    board = load_theme(tmp_path).env.get_template("partials/scoreboard.html")
    parties = ("Lab", "Con", "LD", "SNP", "RUK", "Green")

    def drawn(seats: tuple[int, ...], gains: dict[str, int], losses: dict[str, int]) -> PanelState:
        tally = Scoreboard(dict(zip(parties, seats, strict=True)), gains, losses, sum(seats), 650)
        return PanelState(str(sum(seats)), board.render(scoreboard=tally))

    before = drawn((300, 100, 40, 9, 4, 2), {"Lab": 150}, {"Con": 150})
    after = drawn((301, 100, 40, 9, 4, 2), {"Lab": 151}, {"Con": 151})  # Labour gains a seat from the Conservatives
    change = panel_change(before, after)
    assert change is not None and set(change) == {"rev", "from", "lines"}
    changed = [line for _, _, lines in change["lines"] for line in lines]
    assert "<strong>456</strong> of 650 seats declared" in changed[0]
    assert (
        len(changed) == 6
    )  # the count; Labour's part of the bar, its row's bar, seats, gains; the Conservatives' losses
    named = {
        code for line in changed for code in ("lab", "con", "ld", "snp", "ruk", "green") if f"party-{code}" in line
    }
    assert named == {"lab"}  # the parties after Labour keep their lines (their parts used to move along)
    assert "−151" in changed[-1]
    assert all(len(line) < 120 for line in changed)
    assert '<svg class="party-lab" width="46.31%"></svg>' in after.html  # 301 of 650


def test_numbers_go_on_rising_across_restarts_and_old_messages_are_pruned(night: tuple[Path, Site]) -> None:
    root, site = night
    channel = LiveChannel(site.out, keep=3)
    send(site, channel)
    for n in range(4):
        (root / "entries" / f"0329-n{n}.md").write_text(update(f"n{n}", f"Update {n}"))
        send(site, channel)
    assert sorted(p.name for p in channel.folder.iterdir()) == ["3.json", "4.json", "5.json", HEAD]
    assert json.loads((channel.folder / HEAD).read_bytes())["first"] == 3
    again = LiveChannel(site.out, keep=3)  # a restarted watcher
    (root / "entries" / "0329-late.md").write_text(update("late", "Late"))
    assert send(Site(root), again) == 6
    assert message(again, 6)["reset"] is True  # a new process: pages reload live.json, then follow on


def test_a_panel_goes_by_its_changed_lines_only_when_that_is_much_smaller() -> None:
    rows = [f"<li>{n}</li>" for n in range(40)]
    before = PanelState("a", "<ul>\n" + "\n".join(rows) + "\n</ul>")
    changed = [*rows[:5], "<li>five</li>", "<li>six</li>", *rows[7:]]
    after = PanelState("b", "<ul>\n" + "\n".join(changed) + "\n</ul>")
    assert panel_change(before, after) == {
        "rev": "b",
        "from": "a",
        "lines": [[6, 2, ["<li>five</li>", "<li>six</li>"]]],
    }
    assert panel_change(after, after) is None
    assert panel_change(None, after) == {"rev": "b", "html": after.html}  # nothing sent before: whole
    grown = PanelState("c", after.html.replace("<li>five</li>", "<li>five</li>\n<li>five and a half</li>"))
    assert changed_lines(after.html, grown.html) == [[7, 0, ["<li>five and a half</li>"]]]  # a line more
    redone = PanelState("d", "<ul>\n" + "\n".join(f"<li>x{n}</li>" for n in range(40)) + "\n</ul>")
    assert panel_change(before, redone) == {"rev": "d", "html": redone.html}  # every line changed: whole
    # A page that applies the lines in order gets the new HTML exactly.
    lines = before.html.split("\n")
    for at, cut, new in reversed(changed_lines(before.html, after.html) or []):
        lines[at : at + cut] = new
    assert "\n".join(lines) == after.html
    state = LiveState({}, {"follow": after}, ended=False)
    assert encode_message(LiveDelta(), state, 1, {"follow": after}) is None  # nothing to say
    ended = LiveState({}, {}, ended=True)
    assert encode_message(LiveDelta(), ended, 2, {}, ended_sent=True) is None  # said already


def _applied(before: str, runs: list[list[object]]) -> str:
    lines = before.split("\n")
    for at, cut, new in reversed(runs):
        lines[at : at + cut] = new  # type: ignore[index,misc]
    return "\n".join(lines)


def test_a_long_list_whose_count_and_one_row_changed_goes_by_those_lines() -> None:
    """A national follow list: its count at the top and one seat's row far below (a line longer once declared).
    The middle between them is far over what difflib is given; the walk still sends only those lines."""

    def follow(declared: set[int]) -> str:
        rows = []
        for n in range(650):
            rows += [
                '    <li class="is-declared">',
                f'<a href="update/{n}.html">Seat {n}</a>',
                "      <span>Lab hold</span>",
            ]
            rows += (
                ["    </li>"]
                if n in declared
                else [
                    '      <span class="follow__verdict follow__verdict--waiting">Awaiting result</span>',
                    "    </li>",
                ]
            )
        return "\n".join(['<section class="follow">', f"  <p><strong>{len(declared)}</strong> of 650</p>", *rows])

    before, after = follow({3, 7}), follow({3, 7, 600})
    assert len(before) > MAX_DIFF and before.count("\n") != after.count("\n")
    runs = changed_lines(before, after)
    assert _applied(before, runs) == after
    assert sum(len(new) for _, _, new in runs) <= 3, runs  # the count line and the row's new line
    assert panel_change(PanelState("a", before), PanelState("b", after))["lines"] == runs  # type: ignore[index]


@given(
    st.lists(st.sampled_from(["<li>", "</li>", "a", "b", "c"]), max_size=60),
    st.lists(st.sampled_from(["<li>", "</li>", "a", "b", "d"]), max_size=60),
)
@settings(max_examples=300, deadline=None)
def test_the_walk_that_resyncs_makes_the_new_lines_from_the_old_whatever_they_repeat(
    old: list[str], new: list[str]
) -> None:
    runs = _resynced(old, new)
    lines = list(old)
    for at, cut, add in reversed(runs):
        lines[at : at + cut] = add
    assert lines == new
    assert [at for at, _, _ in runs] == sorted(at for at, _, _ in runs)


# -- nchan in a real nginx -------------------------------------------------------------------------------


class Subscriber:
    """An event-stream client of the channel (what EventSource does), reading in a thread."""

    def __init__(self, port: int, last_event_id: str | None = None, query: str = "") -> None:
        self.events: list[tuple[str, dict[str, object]]] = []
        self.pings: list[str] = []  # the data of each "ping" event (the keep-alive), kept apart from the messages
        self.arrived = threading.Condition()
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        headers = {"Accept": "text/event-stream"} | ({"Last-Event-ID": last_event_id} if last_event_id else {})
        self.connection.request("GET", CHANNEL_PATH + query, headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type", "").startswith("text/event-stream")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        ident = kind = ""
        try:
            while line := self.response.fp.readline():
                text = line.decode().rstrip("\n")
                if text.startswith("id: "):
                    ident = text[4:]
                elif text.startswith("event: "):
                    kind = text[7:]
                elif text.startswith("data: "):
                    with self.arrived:
                        if kind == "ping":
                            self.pings.append(text[6:])
                        else:
                            self.events.append((ident, json.loads(text[6:])))
                        self.arrived.notify_all()
                elif not text:
                    kind = ""  # an event's type is its own
        except (OSError, ValueError):
            pass

    def wait_pings(self, count: int) -> list[str]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.pings) >= count, TIMEOUT), self.pings
            return list(self.pings)

    def wait(self, count: int) -> list[tuple[str, dict[str, object]]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.events) >= count, TIMEOUT), self.events
            return list(self.events)

    def close(self) -> None:
        self.connection.close()


def test_each_build_is_pushed_through_nchan_and_a_reconnect_resumes(
    night: tuple[Path, Site], serve: Callable[[Path], Nginx]
) -> None:
    root, site = night
    server = serve(site.out)
    channel = LiveChannel(site.out, publish_url=server.publish_url)
    send(site, channel)
    assert not channel.down
    subscriber = Subscriber(server.port)
    for n in range(3):
        (root / "entries" / f"0329-n{n}.md").write_text(update(f"n{n}", f"Update {n}"))
        send(site, channel)
    events = subscriber.wait(3)
    assert [e["seq"] for _, e in events] == [2, 3, 4]  # a new subscriber: from the next message on
    assert [e["entries"][0]["id"] for _, e in events] == ["0329-n0", "0329-n1", "0329-n2"]  # type: ignore[index]
    subscriber.close()
    # A page that lost its connection after the first comes back with Last-Event-ID: nchan's buffer has the rest.
    resumed = Subscriber(server.port, last_event_id=events[0][0])
    assert [e["seq"] for _, e in resumed.wait(2)] == [3, 4]
    resumed.close()
    assert channel.flush(TIMEOUT) and not channel.down
    channel.close()


def test_a_dead_engine_is_reported_once_the_files_still_go_out_and_its_return_is_noted(
    night: tuple[Path, Site], serve: Callable[[Path], Nginx]
) -> None:
    need(NGINX.exists(), f"nginx is not installed at {NGINX}")
    root, site = night
    said: list[str] = []
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}/live/publish"
    channel = LiveChannel(site.out, publish_url=dead, timeout=1.0, warn=said.append, note=said.append)
    send(site, channel)
    for n in range(2):
        (root / "entries" / f"0329-n{n}.md").write_text(update(f"n{n}", f"Update {n}"))
        send(site, channel)
    assert channel.flush(TIMEOUT) and channel.down
    assert len(said) == 1 and "did not take message 1" in said[0] and "poll" in said[0]
    assert json.loads((channel.folder / HEAD).read_bytes())["seq"] == 3  # pollers see every message
    server = serve(site.out)
    subscriber = Subscriber(server.port)  # a page that stayed subscribed through the trouble
    channel.publish_url = server.publish_url
    (root / "entries" / "0329-back.md").write_text(update("back", "Back"))
    send(site, channel)
    assert channel.flush(TIMEOUT) and not channel.down
    assert len(said) == 2 and "again (from 1)" in said[1]
    assert [e["seq"] for _, e in subscriber.wait(4)] == [1, 2, 3, 4]  # what it missed, sent again, in order
    subscriber.close()
    channel.close()


def test_messages_the_engine_missed_are_sent_again_once_it_is_back_without_another_build(
    night: tuple[Path, Site], serve: Callable[[Path], Nginx]
) -> None:
    """The engine refuses two messages while pages stay subscribed (a full buffer, a restart behind a proxy);
    no build comes after: the channel tries it again by itself, and the pages get both, in order."""
    root, site = night
    server = serve(site.out)
    said: list[str] = []
    channel = LiveChannel(site.out, publish_url=server.publish_url, warn=said.append, note=said.append)
    send(site, channel)
    subscriber = Subscriber(server.port)
    channel.publish_url = server.publish_url.replace("/live/publish", "/live/refused")  # answered with a 404
    for n in range(2):
        (root / "entries" / f"0329-n{n}.md").write_text(update(f"n{n}", f"Update {n}"))
        send(site, channel)
    assert channel.down and len(said) == 1 and "did not take message 2 (HTTP 404)" in said[0]
    channel.publish_url = server.publish_url  # taking messages again
    events = subscriber.wait(2)
    assert [e["seq"] for _, e in events] == [2, 3]
    assert [e["entries"][0]["id"] for _, e in events] == ["0329-n0", "0329-n1"]  # type: ignore[index]
    deadline = time.monotonic() + TIMEOUT
    while channel.down and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not channel.down and len(said) == 2 and "again (from 2)" in said[1]
    subscriber.close()
    channel.close()


# -- the preview server's event stream -------------------------------------------------------------------


def test_the_preview_server_offers_the_same_channel(night: tuple[Path, Site]) -> None:
    root, site = night
    channel = LiveChannel(site.out, local=True)
    send(site, channel)
    assert json.loads((channel.folder / HEAD).read_bytes())["channel"] is True
    server = PreviewServer(site.out, port=0, channel=channel)
    server.start()
    try:
        port = server.server_address[1]
        subscriber = Subscriber(port)
        (root / "entries" / "0329-a.md").write_text(update("a", "A"))
        send(site, channel)
        (root / "entries" / "0329-b.md").write_text(update("b", "B"))
        send(site, channel)
        events = subscriber.wait(2)
        assert [(ident, e["seq"]) for ident, e in events] == [("2", 2), ("3", 3)]
        subscriber.close()
        resumed = Subscriber(port, last_event_id="2")
        assert [e["seq"] for _, e in resumed.wait(1)] == [3]
        resumed.close()
        asked = Subscriber(port, query="?last_event_id=2")  # as a page that subscribes again itself asks (nchan too)
        assert [e["seq"] for _, e in asked.wait(1)] == [3]
        asked.close()
    finally:
        channel.close()  # ends the streams
        server.stop()


def test_both_channels_ping_with_their_interval_while_no_message_comes(
    night: tuple[Path, Site], serve: Callable[[Path], Nginx]
) -> None:
    """nchan as deploy/nginx.conf sets it up (its interval made short here) and the preview server send the same
    keep-alive: a "ping" event whose data is the interval in seconds, which the page reads."""
    _, site = night
    channel = LiveChannel(site.out, local=True)
    send(site, channel)
    preview = PreviewServer(site.out, port=0, channel=channel, ping=0.2)
    preview.start()
    nginx = serve(site.out)
    conf = nginx.runtime / "nginx.conf"
    assert f"nchan_eventsource_ping_interval {PING};" in conf.read_text()
    assert f"nchan_eventsource_ping_data {PING};" in conf.read_text()
    nginx.stop()
    fast = start_nginx(site.out, nginx.runtime, edit=lambda text: text.replace(f" {PING};", " 1;"))
    try:
        subscribers = [Subscriber(preview.server_address[1]), Subscriber(fast.port)]
        assert subscribers[0].wait_pings(3)[:3] == ["0.2"] * 3
        assert subscribers[1].wait_pings(2)[:2] == ["1"] * 2
        assert all(not s.events for s in subscribers)  # pings are not messages
        for subscriber in subscribers:
            subscriber.close()
    finally:
        channel.close()
        preview.stop()
        fast.stop()


def test_build_writes_the_channel_files_and_a_restart_is_still_up_to_date(night: tuple[Path, Site]) -> None:
    root, _ = night
    assert build_once(root, None) == 0
    head = json.loads((root / "site" / "live" / HEAD).read_bytes())
    assert head["seq"] == 1 and head["channel"] is False
    assert up_to_date(root, root / "site") is not None  # the channel's files are not the build's outputs


def test_a_message_that_cannot_be_written_makes_the_next_one_reset_pages(night: tuple[Path, Site]) -> None:
    root, site = night
    said: list[str] = []
    channel = LiveChannel(site.out, warn=said.append)
    send(site, channel)
    (root / "entries" / "0329-a.md").write_text(update("a", "A"))
    shutil.rmtree(channel.folder)
    channel.folder.write_text("in the way")  # the folder cannot be made: as a full or broken disk would fail
    assert send(site, channel) is None
    assert len(said) == 1 and "could not send" in said[0]
    channel.folder.unlink()
    (root / "entries" / "0329-b.md").write_text(update("b", "B"))
    assert send(site, channel) == 2
    assert message(channel, 2)["reset"] is True  # "a" was never sent: pages reload live.json, which has it


def test_an_entry_that_looks_different_after_a_template_change_is_sent_again(night: tuple[Path, Site]) -> None:
    root, site = night
    channel = LiveChannel(site.out)
    send(site, channel)
    theme = REPO / "templates" / "entry.html"
    (root / "templates").mkdir()
    (root / "templates" / "entry.html").write_text(theme.read_text().replace("entry__head", "entry__head entry__x"))
    assert send(site, channel) == 2
    sent = message(channel, 2)
    assert sent["reset"] is False
    shown = json.loads((site.out / "live.json").read_bytes())["entries"]
    assert [e["id"] for e in sent["entries"]] == [e["id"] for e in shown]  # type: ignore[index]
    assert all("entry__x" in e["html"] for e in sent["entries"])  # type: ignore[index]
