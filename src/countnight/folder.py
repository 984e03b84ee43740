"""The folder outlet: the build's changes written into the output folder by the one atomic writer
(publish.py), with what this process wrote there, so the next build's unchanged files are never read back.

It is the outlet the journal waits on: a version is recorded as shown only once the folder holds it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .changes import Changes
from .publish import Published, PublishError, clean_temp_files, publish


class FolderOutlet:
    """``out`` made to hold exactly the build's paths (plus anything the writer did not put there)."""

    def __init__(self, out: Path, *, workers: bool = True) -> None:
        self.out = out
        self.workers = workers  # whether many pages may be made in forked workers (a watcher says no: memory)
        self._written: dict[str, str] | None = None  # path → digest of what this process published
        self._cleaned = False

    @property
    def knows_the_folder(self) -> bool:
        """Whether this process knows what the folder holds (it wrote it, and no write failed since)."""
        return self._written is not None

    def send(
        self,
        changes: Changes,
        *,
        while_syncing: Callable[[str | None], object] | None = None,
        alongside: Callable[[], object] | None = None,
    ) -> Published:
        """Write the changes; raises PublishError (the previous files intact) or what making a page raised.

        ``while_syncing``, ``alongside``: see ``publish.publish``. The writer works out what to prune itself: from
        what this process wrote, or on its first write from the folder's manifest (``changes.deleted`` agrees).
        """
        if not self._cleaned:
            clean_temp_files(self.out)
            self._cleaned = True
        try:
            written = publish(
                self.out,
                changes.files,
                changes.paths,
                known=self._written,
                workers=self.workers,
                while_syncing=while_syncing,
                alongside=alongside,
            )
        except PublishError:
            self._written = None  # we no longer know what is on disk: the next build makes every page
            raise
        self._written = written.digests
        return written
