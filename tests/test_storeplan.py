"""What goes to the object store, with which headers, in which order: the pure rules (storeplan.py)."""

from __future__ import annotations

import gzip

import pytest

from countnight import channel
from countnight.storeplan import (
    CHANNEL_HEAD,
    IMMUTABLE,
    body,
    is_site_file,
    named_by,
    object_meta,
    references,
    upload_waves,
)


@pytest.mark.parametrize(
    ("name", "content_type", "cache"),
    [
        ("index.html", "text/html; charset=utf-8", "public, max-age=10, must-revalidate"),
        ("live.json", "application/json; charset=utf-8", "public, max-age=10, must-revalidate"),
        ("update/0317-burton.html", "text/html; charset=utf-8", "public, max-age=10, stale-while-revalidate=60"),
        ("page/2.html", "text/html; charset=utf-8", "public, max-age=10, stale-while-revalidate=60"),
        ("results.json", "application/json; charset=utf-8", "public, max-age=10, stale-while-revalidate=60"),
        ("atom.xml", "application/atom+xml; charset=utf-8", "public, max-age=10, stale-while-revalidate=60"),
        ("assets/style.2bcd8fda83.css", "text/css; charset=utf-8", IMMUTABLE),
        ("assets/live.bb5eda4cd0.js", "text/javascript; charset=utf-8", IMMUTABLE),
        ("assets/card.0123456789.png", "image/png", IMMUTABLE),
        ("assets/style.css", "text/css; charset=utf-8", "public, max-age=10, stale-while-revalidate=60"),
        ("odd.bin", "application/octet-stream", "public, max-age=10, stale-while-revalidate=60"),
    ],
)
def test_every_object_has_its_type_with_charset_and_its_cache_rule(name: str, content_type: str, cache: str) -> None:
    meta = object_meta(name)
    assert (meta.content_type, meta.cache_control, meta.content_encoding) == (content_type, cache, None)


def test_max_age_is_the_publish_option_and_gzip_only_touches_text() -> None:
    assert object_meta("index.html", max_age=5).cache_control == "public, max-age=5, must-revalidate"
    html = object_meta("index.html", compress=True)
    assert html.content_encoding == "gzip"
    assert object_meta("assets/card.0123456789.png", compress=True).content_encoding is None
    data = b"<p>" + b"words " * 500 + b"</p>"
    sent = body(data, html)
    assert gzip.decompress(sent) == data and len(sent) < len(data) / 10
    assert body(data, html) == sent, "the same page must give the same bytes (its ETag decides what goes up)"


@pytest.mark.parametrize(
    ("name", "published"),
    [
        ("index.html", True),
        ("update/x.html", True),
        (".countnight-manifest", False),
        (".countnight-tmp-123-index.html", False),
        ("update/.countnight-tmp-9-x.html", False),
        (".countnight-tmp-5-site/index.html", False),
        ("", False),
    ],
)
def test_the_writers_own_files_and_hidden_files_are_never_published(name: str, published: bool) -> None:
    assert is_site_file(name) is published


def test_references_are_the_sites_own_files_relative_to_the_page() -> None:
    page = b"""<link href="../assets/style.0123456789.css"><a href="../index.html#e1">x</a>
    <a href="2.html">older</a><a href="https://example.org/other.html">elsewhere</a><a href="#top">top</a>
    <a href="mailto:desk@example.org">mail</a><link href="data:,"><script src="/assets/live.0123456789.js"></script>
    <meta property="og:image" content="https://night.example/election/assets/card.0123456789.png">
    <a href="../update/a%20b.html">spaces</a><a href="../../outside.html">outside</a><a href="./">folder</a>"""
    found = references("page/1.html", page, "https://night.example/election/")
    assert found == {
        "assets/style.0123456789.css",
        "index.html",
        "page/2.html",
        "assets/live.0123456789.js",
        "assets/card.0123456789.png",
        "update/a b.html",
        "page/index.html",
    }


def test_an_address_is_resolved_from_the_folder_of_the_file_naming_it_whatever_its_fragment() -> None:
    """Addresses are resolved once and remembered: the same words mean another file in another folder."""
    page = b'<a href="../update/a.html#x">1</a><a href="../update/a.html#y">2</a><a href="a.html?q#z">3</a>'
    assert references("page/2.html", page) == {"update/a.html", "page/a.html"}
    assert references("index.html", page) == {"a.html"}, "../ from the top leads out of the site"
    assert references("page/a.html", page) == {"update/a.html"}, "a page never names itself"


def test_references_inside_live_json_fragments_are_read_from_the_top() -> None:
    live = b'{"entries":[{"html":"<a href=\\"update/e1.html\\">share</a><a href=\\"#e1\\">x</a>"}]}'
    assert references("live.json", live) == {"update/e1.html"}
    assert references("live/12.json", live) == {"update/e1.html"}, "the channel's messages go into the index too"


def test_waves_put_what_a_file_names_first_and_the_index_last() -> None:
    names = {
        "index.html": {"update/new.html", "assets/style.0123456789.css", "page/3.html"},
        "live.json": {"update/new.html"},
        "update/new.html": {"index.html", "page/3.html"},  # index.html is in the store already
        "page/3.html": {"update/old.html"},
        "update/old.html": {"page/3.html"},  # moved to the new older page
        "assets/style.0123456789.css": set(),
        "results.html": {"index.html"},
        "atom.xml": {"update/new.html"},
    }
    waves = upload_waves(names, stored={"index.html", "update/old.html"})
    order = [name for wave in waves for name in wave]
    assert order.index("page/3.html") < order.index("update/new.html"), "a share page waits for the new page it names"
    assert order.index("page/3.html") < order.index("update/old.html")
    assert order[-2:] == ["live.json", "index.html"], "live.json is new: it goes before the index that loads it"
    assert order[0] == "assets/style.0123456789.css"
    assert waves[0] == ["assets/style.0123456789.css", "page/3.html", "results.html"], "free files go together"


def test_a_drop_goes_up_in_three_waves_the_way_in_last_and_together() -> None:
    """A drop into a published night: the new share page, the share page that moved to the newest older page
    and that page go together; then what lists the new one; then live.json and the index, both in the store
    already, side by side (a wave per kind made it six round trips)."""
    names = {
        "update/new.html": {"index.html", "results.html", "atom.xml", "assets/style.0123456789.css"},
        "update/moved.html": {"page/9.html", "index.html"},
        "page/9.html": {"update/moved.html", "update/e1.html", "index.html", "page/8.html"},
        "results.json": set(),
        "results.html": {"update/new.html", "update/e1.html"},
        "atom.xml": {"update/new.html", "update/moved.html"},
        "live.json": {"update/new.html", "results.html"},
        "index.html": {"update/new.html", "page/9.html", "results.html", "atom.xml"},
    }
    stored = {"index.html", "live.json", "update/moved.html", "update/e1.html", "page/9.html", "page/8.html"}
    stored |= {"results.html", "results.json", "atom.xml", "assets/style.0123456789.css"}
    waves = upload_waves(names, stored)
    assert waves == [
        ["update/moved.html", "update/new.html", "page/9.html", "results.json"],
        ["results.html", "atom.xml"],
        ["live.json", "index.html"],
    ]


def test_every_file_goes_after_the_new_files_it_names_and_the_way_in_after_everything() -> None:
    names = {f"update/e{k}.html": {f"update/e{k - 1}.html"} if k else set() for k in range(6)}
    names |= {"page/1.html": {"update/e5.html"}, "atom.xml": {"update/e0.html"}}
    names |= {"index.html": {"atom.xml"}, "live.json": {"update/e2.html"}}
    for stored in (set(), {"update/e2.html", "index.html", "live.json"}):
        waves = upload_waves(names, stored)
        where = {name: k for k, wave in enumerate(waves) for name in wave}
        assert sorted(where) == sorted(names)
        for name, refs in names.items():
            assert all(where[t] < where[name] for t in refs if t not in stored), (name, waves)
        way_in = ("index.html", "live.json")
        assert all(where[n] < min(where[w] for w in way_in) for n in names if n not in way_in)
        assert where["live.json"] <= where["index.html"]


def test_a_first_upload_cycle_is_broken_by_kind_with_the_index_last() -> None:
    names = {
        "index.html": {"update/a.html", "page/1.html"},
        "update/a.html": {"index.html", "page/1.html"},
        "page/1.html": {"update/a.html", "index.html"},
        "live.json": {"update/a.html"},
    }
    order = [name for wave in upload_waves(names, stored=set()) for name in wave]
    assert order == ["update/a.html", "page/1.html", "live.json", "index.html"]


def test_a_deletion_waits_while_an_upload_still_names_it() -> None:
    assert named_by({"index.html": {"update/a.html"}}, ["update/a.html", "update/b.html"]) == {"update/a.html"}


def test_new_files_naming_each_other_go_before_the_stored_pages_that_will_name_them() -> None:
    """Found by the 100-kill run: entries dropped while the store was behind fill a new older page, whose
    new share pages and the page itself name each other. The new ones go first (nothing a reader can reach
    names them yet), then the share pages already in the store that now point at the new page."""
    names = {
        "update/e169.html": {"page/18.html", "index.html"},  # in the store: moves to the new page
        "update/e179.html": {"page/18.html", "index.html"},  # new
        "page/18.html": {"update/e169.html", "update/e179.html", "index.html"},  # new
        "index.html": {"page/18.html", "update/e179.html"},
        "live.json": {"update/e179.html"},
    }
    order = [name for wave in upload_waves(names, stored={"update/e169.html", "index.html"}) for name in wave]
    assert order == ["update/e179.html", "page/18.html", "update/e169.html", "live.json", "index.html"]


def test_the_channels_head_names_its_message_and_goes_up_last_after_it() -> None:
    """Pages polling the store read live/head.json, then the message it names: never a head ahead of it."""
    assert f"{channel.FOLDER}/{channel.HEAD}" == CHANNEL_HEAD
    head = b'{"seq":12,"first":1,"channel":false}'
    assert references(CHANNEL_HEAD, head) == {"live/12.json"}
    assert references(CHANNEL_HEAD, b"{") == set() == references(CHANNEL_HEAD, b'{"seq":0}')
    names = {
        "update/new.html": {"index.html"},
        "live/12.json": {"update/new.html"},
        CHANNEL_HEAD: {"live/12.json"},
        "live.json": {"update/new.html"},
        "index.html": {"update/new.html"},
    }
    waves = upload_waves(names, stored={"index.html", "live.json", CHANNEL_HEAD})
    assert waves == [["update/new.html"], ["live/12.json"], [CHANNEL_HEAD, "live.json", "index.html"]]
    assert object_meta(CHANNEL_HEAD).cache_control == "public, max-age=10, must-revalidate"


def test_what_names_a_file_sent_ahead_of_its_cycle_waits_for_the_whole_cycle() -> None:
    """Found by the 100-kill run: a new share page and its new older page name each other; the share page
    goes first (nothing reaches it yet), and the feed naming it had gone up in the very next wave, beside
    the older page, so a kill could leave the feed leading to a page not there."""
    names = {
        "update/e140.html": {"page/15.html", "index.html"},
        "page/15.html": {"update/e140.html", "page/14.html"},
        "page/14.html": {"page/15.html"},
        "atom.xml": {"update/e140.html"},
        "live.json": {"update/e140.html"},
        "index.html": {"update/e140.html", "page/15.html"},
    }
    stored = {"index.html", "live.json", "atom.xml", "page/14.html"}
    waves = upload_waves(names, stored)
    assert waves == [["update/e140.html"], ["page/15.html"], ["page/14.html", "atom.xml"], ["live.json", "index.html"]]
