"""Which files are what: the config, entry files, theme files, the default theme's folder. Pure and light (the
standard library only), so the quick up-to-date check of a restart can use the build's own rules."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path, PurePath

CONFIG_NAME = "countnight.toml"  # the blog folder's config file
# An id is exactly these characters: fullmatch, not ``$``, which also matches before a final newline (a file
# named "x\n.md" passed, and its share link, ``withdraw`` and ``history`` could never name it).
ID_CHARACTERS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# The longest file name most file systems take (NAME_MAX), and path (PATH_MAX), when they cannot be asked.
NAME_MAX = 255
PATH_MAX = 4096
SHARE_SUFFIX = ".html"  # an entry's share page is update/ID.html (feeds.share_path)
# The longest folder a publish writes an entry's share page into, past the output folder: a first build stages
# the whole site in ".countnight-tmp-PID-site/" inside it (publish.py; a pid has at most 7 digits on Linux).
_STAGED_SHARE_FOLDER = "/.countnight-tmp-4194304-site/update/"


# The pictures a reporter may drop beside an entry (picturemake.py reads them by their content, whatever the name
# says). SVG is refused by name and by content: an SVG is a document that can carry scripts.
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif", ".avif")
MAX_PICTURE_BYTES = 40 * 1024 * 1024  # a phone's largest photo is ~15 MB (here, so a build need not load Pillow)


def is_picture_name(name: str) -> bool:
    """A file in entries/ that may be a picture an entry names (editors' and sync tools' temp files are not)."""
    return name.lower().endswith(PICTURE_SUFFIXES) and not name.startswith((".", "_"))


def is_entry_name(name: str) -> bool:
    """SPEC: dot-, underscore-, ~-, .swp- and .tmp- files are editors' and sync tools' files, not entries."""
    return name.endswith(".md") and not name.startswith((".", "_")) and not name.endswith(("~", ".swp", ".tmp"))


# Names a reporter may have meant as an entry: "X.MD", "x.md.txt" (a system that hides extensions added ".txt"),
# "x.markdown". Editors' own files (dot, underscore, "~", ".swp", ".tmp") are left out on purpose, without a word.
_MEANT_SUFFIXES = (".markdown", ".mdown", ".mkd", ".txt")


def not_an_entry(name: str) -> str | None:
    """For a file in entries/ that is not an entry but looks meant as one, what to do about it; else None."""
    if is_entry_name(name) or name.startswith((".", "_")) or name.endswith(("~", ".swp", ".tmp")):
        return None
    lower = name.lower()
    if lower.endswith(".md"):
        return f"not read: entry files end in '.md', in lower case (rename it to {name[:-3]}.md)"
    stem, dot, _ = lower.partition(".md.")
    if dot:
        return (
            f"not read: entry files end in '.md' (rename it to {name[: len(stem)]}.md; the system may hide "
            "the last part of a name)"
        )
    if lower.endswith(_MEANT_SUFFIXES):
        return f"not read: entry files end in '.md' (if it is one, rename it to {name.rpartition('.')[0]}.md)"
    return None


def entries_in_folder(folder: str) -> int:
    """How many files in ``folder`` (a folder inside entries/) have a name an entry could have."""
    try:
        with os.scandir(folder) as listing:
            return sum(1 for item in listing if is_entry_name(item.name) or item.name.lower().endswith(".md"))
    except OSError:
        return 0


def not_read(folder: Path) -> list[tuple[str, str]]:
    """(name, what to do) for each file or folder in entries/ that looks meant as an entry and is not read: for
    commands that list the folder themselves (``list``); the build keeps its own, up to date file by file."""
    found: list[tuple[str, str]] = []
    try:
        listing = sorted(os.scandir(folder), key=lambda item: item.name)
    except OSError:
        return found
    for item in listing:
        if is_entry_name(item.name):
            continue
        try:
            is_folder = item.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_folder:
            count = 0 if item.name.startswith((".", "_")) else entries_in_folder(item.path)
            if count:
                found.append((f"{item.name}/", folder_not_read(count)))
        elif (why := not_an_entry(item.name)) is not None:
            found.append((item.name, why))
    return found


def folder_not_read(count: int) -> str:
    files = "file" if count == 1 else "files"
    return (
        "not read: only files directly in entries/ are entries, not those in a folder inside it "
        f"(move its {count} .md {files} up into entries/)"
    )


def entry_id(path: PurePath | str) -> str:
    """The entry's id: its file name without ``.md``."""
    name = path.rpartition("/")[2] if isinstance(path, str) else path.name  # str: the hot path, no PurePath
    return name.removesuffix(".md")


def is_id(ident: str) -> bool:
    """Whether ``ident`` is made of exactly the characters an id may have (SPEC: it is the page's address)."""
    return ID_CHARACTERS.fullmatch(ident) is not None


def longest_id(out: Path | str) -> int:
    """The longest id whose share page (``update/ID.html``) the output folder's file system can hold.

    A longer name is refused as that entry's error: the build that tried to write it failed as a whole,
    and no later entry was published. Asked of the file system the output folder is on (the nearest folder
    of it that exists), with the path a first build stages the page at, so a deep output folder counts too.
    """
    folder = os.path.abspath(out)
    probe = folder
    while not os.path.isdir(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    name_max, path_max = NAME_MAX, PATH_MAX
    try:
        name_max = os.pathconf(probe, "PC_NAME_MAX") or NAME_MAX
        path_max = os.pathconf(probe, "PC_PATH_MAX") or PATH_MAX
    except (OSError, ValueError):  # not a folder any more, or a system that cannot say: the usual limits
        pass
    by_name = name_max - len(SHARE_SUFFIX)
    by_path = path_max - 1 - len(os.fsencode(folder)) - len(_STAGED_SHARE_FOLDER) - len(SHARE_SUFFIX)
    return max(0, min(by_name, by_path))


def default_theme() -> Path:
    """The default theme's folder (the repository's top-level ``templates/``, packaged as countnight.theme)."""
    return Path(str(resources.files("countnight.theme")))


def is_theme_file(relative: str) -> bool:
    """Editors' lock, swap and backup files (``.#x.html``, ``x.html~``) and caches are not the theme."""
    parts = relative.replace("\\", "/").split("/")
    return not any(
        part.startswith((".", "#")) or part.endswith(("~", ".swp", ".tmp", ".py", ".pyc")) or part == "__pycache__"
        for part in parts
    )


def theme_files(folder: Path) -> list[Path]:
    """The theme's own files in ``folder``, sorted, leaving out editors' and Python's leftovers."""
    if not folder.is_dir():
        return []
    found: list[Path] = []
    _walk(folder, "", found)
    return sorted(found)


def _walk(folder: Path, prefix: str, found: list[Path]) -> None:
    """The files under ``folder`` (links to files included, links to folders not entered), as rglob gives them;
    os.scandir, not rglob: the watcher lists the theme on every build, and this takes a fifth of the time."""
    try:
        listing = list(os.scandir(folder))
    except OSError:
        return
    for item in listing:
        relative = prefix + item.name
        try:
            if item.is_dir(follow_symlinks=False):
                _walk(folder / item.name, relative + "/", found)
            elif is_theme_file(relative) and item.is_file():
                found.append(folder / item.name)
        except OSError:
            continue
