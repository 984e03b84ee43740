"""Problems with input files, reported as ``FILE:LINE: message``."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file, at a line (1-based; 0 when it is about the whole file)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}: {self.message}"
        return f"{self.path}: {self.message}"


class InputError(Exception):
    """Raised with every problem found in one input (a file, the config, the command line)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, path: str, line: int, message: str) -> InputError:
        return cls([Problem(path, line, message)])


def describe_os_error(err: OSError, path: object = None) -> str:
    """What an OSError on ``path`` means for the person at the keyboard, in words: a state or input path of
    the wrong kind (a file where a folder must be, a folder where a file must be) names the part at fault."""
    where = os.fspath(path) if isinstance(path, str | os.PathLike) else err.filename
    if err.errno == errno.EISDIR:
        return "is a folder, not a file: move it away"
    if err.errno == errno.ENOTDIR and isinstance(where, str | bytes):
        part = os.fsdecode(where)
        if os.path.lexists(part) and not os.path.isdir(part):
            return "is a file, not a folder: move it away"
        while part and part != os.path.dirname(part):
            part = os.path.dirname(part)
            if os.path.lexists(part) and not os.path.isdir(part):
                return f"{part} is a file, not a folder: move it away"
        return "a part of its path is a file, not a folder"
    if err.errno == errno.EEXIST:
        return "a file is where a folder must be: move it away"
    if err.errno == errno.ENOSPC:
        return "the disk is full"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.ELOOP:
        return "a link where a plain file must be, or links that lead round in a loop"
    return err.strerror or str(err)
