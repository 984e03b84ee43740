"""From the command line and ``[publish]`` to a running object-store outlet; ``countnight publish``'s work.

The target comes from ``--to``/``--publish`` or else ``[publish] to``; the endpoint from ``--endpoint`` or
the standard ``AWS_ENDPOINT_URL``; credentials only from the environment and profiles (boto3's chain).
"""

from __future__ import annotations

import time
from pathlib import Path

from . import storerecord
from .config import Event, PublishOptions
from .console import Console
from .objectstore import ObjectStoreOutlet, plural
from .purge import purger
from .s3store import Store, StoreError, Target


class SetupError(Exception):
    """The publish target cannot be used as given; the message says why."""


def open_outlet(
    root: Path,
    out: Path,
    event: Event,
    to: str | None,
    *,
    endpoint: str | None = None,
    profile: str | None = None,
    console: Console | None = None,
) -> ObjectStoreOutlet:
    """An outlet (not started) for ``to``, or ``[publish] to`` when ``to`` is empty."""
    options = event.publish or PublishOptions()
    address = to or options.to
    if not address:
        raise SetupError("no target: give s3://BUCKET/PREFIX, or set `to` in the [publish] table of countnight.toml")
    try:
        target = Target.parse(address)
    except ValueError as err:
        raise SetupError(str(err)) from None
    try:
        store = Store(target, endpoint=endpoint or None, profile=profile)
    except StoreError as err:
        raise SetupError(str(err)) from None
    record = storerecord.record_path(root, store.where, str(target))
    purge = purger(
        url=options.purge_url, method=options.purge_method, command=options.purge_command, base_url=event.base_url
    )
    return ObjectStoreOutlet(
        out,
        store,
        record,
        console=console,
        max_age=options.max_age,
        compress=options.gzip,
        base_url=event.base_url,
        purge=purge,
    )


def mirror_once(outlet: ObjectStoreOutlet, *, tries: int = 4, timeout: float = 3600.0) -> str | None:
    """Mirror the output folder once (``countnight publish``); None when done, else why it gave up."""
    outlet.start()
    deadline = time.monotonic() + timeout
    try:
        while not outlet.wait_caught_up(0.1):
            state = outlet.state()
            if state.failures >= tries or (state.failures and state.lasting):
                return f"gave up after {plural(state.failures, 'try', 'tries')}: {state.error}"
            if time.monotonic() > deadline:
                return f"not done after {timeout:.0f} s"
        return None
    finally:
        outlet.stop(drain=0)
        outlet.store.close()
