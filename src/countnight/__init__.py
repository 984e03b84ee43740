"""countnight: live election-night results blogs from a folder of reporters' entry files."""

from __future__ import annotations

import os

__version__ = "0.1.0"

# pydantic looks for third-party plugins the first time it builds a validator, which countnight's models do as
# they are imported: it reads the metadata of every installed distribution, ~25 ms of every start (a restart on
# an up-to-date site takes 0.2 s in all). countnight uses none. Set PYDANTIC_DISABLE_PLUGINS (even empty) to
# choose otherwise.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
