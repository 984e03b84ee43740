"""The night's rules: the config, the baseline and the theme, the inputs every entry is read and shown by.

Each is read again only when its file changes, and ``Rules.key`` changes whenever any of them does: the
build then reads every entry anew.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .baseline import Baseline, load_baseline
from .config import CONFIG_NAME, Event, load_config
from .errors import InputError
from .render import Theme, load_theme
from .uptodate import signature, theme_signatures


@dataclass(frozen=True)
class Setup:
    event: Event
    baseline: Baseline | None
    theme: Theme
    key: str  # changes when anything that affects every entry changes


class Rules:
    """The config, baseline and theme of one blog folder, as last read, with the signatures they had."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._baseline: tuple[tuple[str, str], Baseline] | None = None  # ((name, sha256), parsed)
        # (config, (baseline name, its signature) or None), stat-ed before they were read
        self.input_signatures: tuple[tuple[int, int, int], tuple[str, tuple[int, int, int]] | None] | None = None
        self._theme: tuple[tuple[tuple[str, int, int, int], ...], Theme] | None = None  # (file signatures, theme)

    @property
    def theme_signatures(self) -> list[tuple[str, int, int, int]] | None:
        """The theme's file signatures as they were when it was last compiled (None: not yet)."""
        return list(self._theme[0]) if self._theme is not None else None

    def read(self) -> Setup:
        """The rules as the files now say; raises InputError (config, baseline) or jinja2.TemplateError."""
        config_signature = signature(self.root / CONFIG_NAME)  # taken before reading: see uptodate.py
        event = load_config(self.root)
        digest = hashlib.sha256((self.root / CONFIG_NAME).read_bytes())
        baseline = None
        self.input_signatures = (config_signature, None)
        if event.baseline:
            path = self.root / event.baseline
            self.input_signatures = (config_signature, (event.baseline, signature(path)))  # also before reading
            try:
                data = path.read_bytes()
            except OSError as err:
                raise InputError.one(event.baseline, 0, f"baseline file: {err.strerror}") from None
            digest.update(data)
            key = (event.baseline, hashlib.sha256(data).hexdigest())
            if self._baseline is None or self._baseline[0] != key:  # read again only when its bytes change
                self._baseline = (key, load_baseline(path, event.baseline))
            baseline = self._baseline[1]
        theme = self._load_theme()
        digest.update(theme.fingerprint.encode())
        return Setup(event, baseline, theme, digest.hexdigest())

    def _load_theme(self) -> Theme:
        """The theme, compiled again only when a template file changed.

        Compiling every template is most of the time a small build takes: in watch mode, a change to
        one entry must not pay for it. A broken template raises here on every build until fixed.
        """
        signatures = theme_signatures(self.root)  # a file gone since it was listed: the next build sees it
        if self._theme is None or list(self._theme[0]) != signatures:
            self._theme = (tuple(signatures), load_theme(self.root))
        return self._theme[1]
