"""The night's rules: the config, the baseline and the theme, the inputs every entry is read and shown by.

Each is read again only when its file changes, and ``Rules.key`` changes whenever any of them does: the
build then reads every entry anew.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .baseline import Baseline, load_baseline
from .blogid import blog_id
from .config import CONFIG_NAME, Event, load_config
from .errors import InputError, describe_os_error
from .fileio import read_file
from .render import Theme, load_theme
from .uptodate import Signature, racy, signature, theme_signatures


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
        self.input_signatures: tuple[Signature, tuple[str, Signature] | None] | None = None
        self._theme: tuple[tuple[tuple[str, int, int, int, int], ...], Theme] | None = None  # (signatures, theme)
        self.seen_ns = 0  # time.time_ns() before this build took any signature (see uptodate.racy)
        self._racy_inputs: list[tuple[str, str]] = []  # the config and baseline, when racy: (name, sha256)
        self._theme_racy: list[tuple[str, str]] = []  # theme files racy when read: (path, sha256 then)
        self._blog_id: str | None = None
        self.theme_unsure = False  # a theme file changed while it was read: the next build reads it again

    @property
    def racy(self) -> list[tuple[str, str]]:
        """(path, sha256 as read) of the config, baseline and theme files whose signature proves nothing."""
        return [*self._racy_inputs, *self._theme_racy]

    @property
    def theme_signatures(self) -> list[tuple[str, int, int, int, int]] | None:
        """The theme's file signatures as they were when it was last compiled (None: not yet)."""
        return list(self._theme[0]) if self._theme is not None else None

    def read(self) -> Setup:
        """The rules as the files now say; raises InputError (config, baseline) or jinja2.TemplateError."""
        config_signature = signature(self.root / CONFIG_NAME)  # taken before reading: see uptodate.py
        event = load_config(self.root)
        if event.feed_id is None:  # kept in .countnight/ by the first build (read once per process)
            self._blog_id = self._blog_id or blog_id(self.root)
            event = event.model_copy(update={"feed_id": self._blog_id})
        config = read_file(self.root / CONFIG_NAME)
        digest = hashlib.sha256(config)
        baseline = None
        self.input_signatures = (config_signature, None)
        self._racy_inputs = []
        if racy(config_signature, self.seen_ns):
            self._racy_inputs.append((CONFIG_NAME, hashlib.sha256(config).hexdigest()))
        if event.baseline:
            path = self.root / event.baseline
            baseline_signature = signature(path)  # also before reading
            self.input_signatures = (config_signature, (event.baseline, baseline_signature))
            try:
                data = read_file(path)
            except OSError as err:
                raise InputError.one(event.baseline, 0, f"baseline file: {describe_os_error(err, path)}") from None
            digest.update(data)
            key = (event.baseline, hashlib.sha256(data).hexdigest())
            if racy(baseline_signature, self.seen_ns):
                self._racy_inputs.append(key)
            if self._baseline is None or self._baseline[0] != key:  # read again only when its bytes change
                self._baseline = (key, load_baseline(path, event.baseline))
            baseline = self._baseline[1]
        try:
            theme = self._load_theme()
        except OSError as err:  # a template that cannot be read (no permission, a folder in its place)
            where = os.path.relpath(err.filename, self.root) if isinstance(err.filename, str) else "templates"
            raise InputError.one(where, 0, f"cannot be read: {describe_os_error(err)}") from None
        digest.update(theme.fingerprint.encode())
        return Setup(event, baseline, theme, digest.hexdigest())

    def _load_theme(self) -> Theme:
        """The theme, compiled again only when a template file changed.

        Compiling every template is most of the time a small build takes: in watch mode, a change to
        one entry must not pay for it. A broken template raises here on every build until fixed.
        """
        signatures = theme_signatures(self.root)  # a file gone since it was listed: the next build sees it
        stale = self._theme is None or list(self._theme[0]) != signatures
        if not stale:  # a file racy when it was read is believed on its bytes, not on its signature
            stale = any(_sha256(path) != digest for path, digest in self._theme_racy)
        if stale:
            before = [(found[0], _sha256(found[0])) for found in signatures if racy(found, self.seen_ns)]
            self._theme = (tuple(signatures), load_theme(self.root))
            # Changed while it was read? Then the digests kept do not match the disk: the next build reads
            # the theme again, and until one does, no record says the site is up to date.
            self._theme_racy = before
            self.theme_unsure = before != [(path, _sha256(path)) for path, _ in before]
        else:
            now = {found[0]: found for found in signatures}
            self._theme_racy = [pair for pair in self._theme_racy if racy(now[pair[0]], self.seen_ns)]
            self._blog_id: str | None = None
        self.theme_unsure = False
        assert self._theme is not None
        return self._theme[1]


def _sha256(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return ""  # matches no digest: what cannot be read is not believed unchanged
