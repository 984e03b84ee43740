"""Which files are what: the config, entry files, theme files, the default theme's folder. Pure and light (the
standard library only), so the quick up-to-date check of a restart can use the build's own rules."""

from __future__ import annotations

from importlib import resources
from pathlib import Path, PurePath

CONFIG_NAME = "countnight.toml"  # the blog folder's config file


def is_entry_name(name: str) -> bool:
    """SPEC: dot-, underscore-, ~-, .swp- and .tmp- files are editors' and sync tools' files, not entries."""
    return name.endswith(".md") and not name.startswith((".", "_")) and not name.endswith(("~", ".swp", ".tmp"))


def entry_id(path: PurePath | str) -> str:
    """The entry's id: its file name without ``.md``."""
    name = path.rpartition("/")[2] if isinstance(path, str) else path.name  # str: the hot path, no PurePath
    return name.removesuffix(".md")


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
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).as_posix()
        if is_theme_file(relative) and path.is_file():
            found.append(path)
    return sorted(found)
