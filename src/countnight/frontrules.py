"""What both readers of front matter agree on (the line-based fast path in frontmatter.py and the YAML
event reader in yamlread.py): how deep values may nest, which plain words mean "no value", and how a
value's place is written. Its own module so that neither reader imports the other for them.
"""

from __future__ import annotations

# An entry nests three levels at most (candidates → a candidate → its fields). Each value's location is a
# tuple as long as its depth, so without a cap 100 KB of "[" would cost depth² memory: 40 GB (found by
# tests/test_fuzz.py, which the OOM killer ended).
MAX_DEPTH = 20
NULLS = frozenset({"", "~", "null", "Null", "NULL"})

Loc = tuple[str | int, ...]
