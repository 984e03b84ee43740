"""The optional CDN purge after each upload, so readers get a changed page before its max-age runs out.

Two ways, set in ``[publish]``:

- ``purge_url``: one HTTP request per changed object, Fastly style (``PURGE https://cdn.example/x.html``,
  or ``POST https://api.fastly.com/purge/{url}``). ``{url}`` is the object's public address
  (``base_url`` + its path), ``{path}`` its path in the site. Headers (an API token) come from the
  environment, never from countnight.toml: ``COUNTNIGHT_PURGE_HEADERS``, one ``Name: value`` a line.
- ``purge_command``: a command run once per upload with every changed public address as arguments, for
  APIs that take a list (Cloudflare's ``purge_cache``) or a CLI; it inherits the environment.

A changed ``index.html`` also purges its folder's address (``https://cdn.example/election/``), which is
the address readers load. A purge that fails is said on the console; the CDN then keeps the old copy
until its max-age (10 s by default) runs out.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Callable, Sequence
from urllib.parse import quote

HEADERS_VARIABLE = "COUNTNIGHT_PURGE_HEADERS"
_TIMEOUT = 10.0


def _headers() -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in os.environ.get(HEADERS_VARIABLE, "").splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers[name.strip()] = value.strip()
    return headers


def addresses(names: Sequence[str], base_url: str | None) -> list[tuple[str, str]]:
    """(public address, path) of each changed object, plus a folder's own address for its index.html."""
    found: list[tuple[str, str]] = []
    for name in names:
        found.append((f"{base_url}{quote(name)}" if base_url else "", name))
        if name == "index.html" or name.endswith("/index.html"):
            folder = name[: -len("index.html")]
            found.append((f"{base_url}{quote(folder)}" if base_url else "", folder))
    return found


def purger(
    *, url: str | None, method: str, command: Sequence[str] | None, base_url: str | None
) -> Callable[[list[str]], None] | None:
    """What to call with the names an upload changed, or None when no purge is set."""
    if url is None and command is None:
        return None

    def purge(names: list[str]) -> None:
        found = addresses(names, base_url)
        failed: list[str] = []
        if url is not None:
            headers = _headers()
            for public, path in found:
                address = url.replace("{url}", public).replace("{path}", quote(path))
                request = urllib.request.Request(address, method=method, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=_TIMEOUT) as answer:
                        answer.read()
                except OSError as err:  # URLError and HTTPError are OSErrors
                    failed.append(f"{address}: {err}")
        if command is not None:
            done = subprocess.run([*command, *(public for public, _ in found)], timeout=60, check=False)
            if done.returncode != 0:
                failed.append(f"{command[0]} exited with status {done.returncode}")
        if failed:
            raise RuntimeError("; ".join(failed[:3]) + (f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""))

    return purge
