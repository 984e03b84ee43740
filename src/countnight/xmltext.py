"""Text for the site's XML (the Atom feed, and any XML file it writes): escaped as ``xml.sax.saxutils`` escapes
it, and without the characters an XML file cannot hold.

XML 1.0 allows tab, line feed and carriage return and nothing else below U+0020, no lone surrogates, and not
U+FFFE or U+FFFF: one of them anywhere makes the whole file unreadable to every conforming parser (a feed
reader drops the feed). They reach the text from a reporter's YAML escapes (``"a\\bb"``, ``"\\e"``,
``"\\uFFFE"``), a body pasted from a terminal, a config's TOML escapes or a baseline cell, in any field. So the
one place they are stopped is here, where text becomes XML, whatever field it came from. The characters XML
allows but asks documents not to use (DEL, the C1 controls, the noncharacters U+FDD0–U+FDEF and U+nFFFE/U+nFFFF
of every plane) go too: no reader shows them, and XML 1.1 parsers refuse the C1 controls unescaped. A control
character that stood for a space (vertical tab, form feed, NEL, the separators) becomes a space, so words it
kept apart stay apart; the others are dropped, as a browser shows them: not at all.

Without importing xml.sax.saxutils: it imports urllib.request (and with it http.client and ssl), ~11 ms of every
start for two small functions.
"""

from __future__ import annotations

import re
from html import escape as _html_escape

_NONCHARACTERS = "".join(chr(plane << 16 | low) for plane in range(17) for low in (0xFFFE, 0xFFFF))
NOT_IN_XML = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NONCHARACTERS}]")
_ATTRIBUTE_CONTROLS = str.maketrans({"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _instead(found: re.Match[str]) -> str:
    return " " if found.group().isspace() else ""


def xml_chars(text: str) -> str:
    """``text`` with only characters XML can carry (see the module's note); most text comes back as it is."""
    if NOT_IN_XML.search(text) is None:
        return text
    return NOT_IN_XML.sub(_instead, text)


def escape(text: str) -> str:
    """Text for an XML element: ``&``, ``<`` and ``>`` as entities, and only characters XML can carry."""
    return _html_escape(xml_chars(text), quote=False)


def quoteattr(text: str) -> str:
    """An XML attribute value, quoted: double quotes unless it holds one (then single, or ``&quot;``)."""
    value = escape(text).translate(_ATTRIBUTE_CONTROLS)
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return '"{}"'.format(value.replace('"', "&quot;"))
