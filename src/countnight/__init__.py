"""countnight: live election-night results blogs from a folder of reporters' entry files."""

from __future__ import annotations

__version__ = "0.1.0"
