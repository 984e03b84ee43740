"""Compact JSON text: no spaces, non-ASCII kept as UTF-8; for the journal, ``live.json``, ``results.json`` and JSON-LD.

One encoder, made once: ``json.dumps`` given any argument makes a new encoder on every call (~5 µs; a cold
build of 10,000 entries encodes ~25,000 values).
"""

from __future__ import annotations

import json

compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# A string as compact writes it (the same C function its encoder uses for strings): for records whose shape
# is fixed, joined without building a dict and an encoder pass for each (the journal: 10,000 in a cold build).
string = json.encoder.encode_basestring
