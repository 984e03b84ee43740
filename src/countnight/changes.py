"""What a build hands on to the places it publishes to: the files it made, as bytes or as how to make them."""

from __future__ import annotations

from collections.abc import Callable

Content = bytes | Callable[[], bytes]  # a file's bytes, or how to make them (rendered where it is staged)
