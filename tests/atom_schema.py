"""RFC 4287's own schema (tests/atom/atom.rnc, Appendix B of the RFC) as a check on the feeds the site writes.

Two tools from Debian, both by the RELAX NG grammar's reference implementers: ``jing`` validates a feed against
the grammar, and also against the Schematron 1.5 rules the grammar carries as annotations (which a RELAX NG
validator skips: that a feed without an author has an author on every entry, that every entry has an alternate
link or content). ``trang`` turns the compact syntax into XML, where the rules can be read out: each goes into
a pattern of its own (in one pattern, only the first rule whose context matches a node is applied, and two of
the RFC's rules share the context ``atom:entry``).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

SCHEMA = Path(__file__).with_name("atom") / "atom.rnc"
JING = shutil.which("jing")
TRANG = shutil.which("trang")
ATOM_NS = "http://www.w3.org/2005/Atom"
SCHEMATRON_NS = "http://www.ascc.net/xml/schematron"  # Schematron 1.5, the namespace the RFC's rules are in
RULES = 3  # the RFC's schema has three: the feed's author, the entry's link or content, the entry's author
TIMEOUT = 180  # seconds: a JVM starting on a loaded two-core machine


@dataclass(frozen=True)
class AtomSchema:
    """The RFC's grammar as XML (``rng``) and its rules as a Schematron schema (``sch``)."""

    rng: Path
    sch: Path

    def problems(self, feeds: Sequence[Path]) -> list[str]:
        """Every way ``feeds`` break the grammar or a rule, a line each; empty when they are all valid. One JVM per
        schema for all the feeds; jing names the file of a grammar error but not of a failed rule, so the rules
        are asked again file by file when one fails."""
        found = _jing(self.rng, feeds)
        if _jing(self.sch, feeds):
            found += [f"{feed}: {said}" for feed in feeds for said in _jing(self.sch, [feed])]
        return found


def _jing(schema: Path, feeds: Sequence[Path]) -> list[str]:
    """What jing says about ``feeds`` against ``schema``, a problem a line (a rule's message joined to its
    "assertion failed" line)."""
    assert JING is not None
    run = subprocess.run(
        [JING, str(schema), *map(str, feeds)], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if run.returncode == 0:
        return []
    said: list[str] = []
    for line in (run.stdout + run.stderr).splitlines():
        if line.startswith((" ", "\t")) and said:
            said[-1] += " " + line.strip()
        elif line.strip():
            said.append(line.strip())
    return said or [f"jing exited {run.returncode} on {schema.name} and said nothing"]


def compile_schema(folder: Path) -> AtomSchema:
    """The shipped schema made ready for jing in ``folder``: trang's XML form, and the Schematron rules from it."""
    assert TRANG is not None
    folder.mkdir(parents=True, exist_ok=True)
    rng = folder / "atom.rng"
    subprocess.run([TRANG, "-I", "rnc", "-O", "rng", str(SCHEMA), str(rng)], check=True, timeout=TIMEOUT)
    rules = list(ElementTree.parse(rng).getroot().iter(f"{{{SCHEMATRON_NS}}}rule"))
    assert len(rules) == RULES, f"{SCHEMA.name}: expected the RFC's {RULES} Schematron rules, found {len(rules)}"
    ElementTree.register_namespace("", SCHEMATRON_NS)
    schema = ElementTree.Element(f"{{{SCHEMATRON_NS}}}schema")
    ElementTree.SubElement(schema, f"{{{SCHEMATRON_NS}}}ns", prefix="atom", uri=ATOM_NS)
    for number, rule in enumerate(rules, 1):
        pattern = ElementTree.SubElement(schema, f"{{{SCHEMATRON_NS}}}pattern", name=f"RFC 4287 rule {number}")
        pattern.append(rule)
    sch = folder / "atom.sch"
    ElementTree.ElementTree(schema).write(sch, encoding="utf-8", xml_declaration=True)
    return AtomSchema(rng, sch)
