"""Party codes, names, headline phrasing and colours.

Outputs always carry a party *code* (``Lab``, ``Con``, ``RUK`` …). Reporters may type a code or a
name in any case ("labour", "Reform UK", "Lib Dem"); :func:`party_code` folds them to the code.
A party we do not know is kept exactly as written (stripped), never guessed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MAIN_PARTIES",
    "NEUTRAL_COLOUR",
    "PARTIES",
    "Party",
    "contrast_ratio",
    "fold_party",
    "is_known",
    "near_party",
    "party",
    "party_code",
    "party_colour",
    "party_name",
    "party_object",
    "party_short",
    "party_subject",
    "party_text_colour",
]

NEUTRAL_COLOUR = "#9E9E9E"


@dataclass(frozen=True)
class Party:
    """A party we know: its code, how to name it, and its colour.

    ``subject`` is how a headline names it as the subject ("Conservatives hold Stafford"), ``object``
    after "from" ("… from the Conservatives"); ``singular`` picks the verb form ("The Speaker holds").
    """

    code: str
    name: str
    short: str
    subject: str
    object: str
    colour: str
    aliases: tuple[str, ...] = ()
    singular: bool = False


_PARTIES: tuple[Party, ...] = (
    Party(
        "Lab",
        "Labour",
        "Lab",
        "Labour",
        "Labour",
        "#E4003B",
        ("Labour Party", "Labour and Co-operative", "Labour Co-op", "Lab Co-op", "Co-operative Party"),
    ),
    Party(
        "Con",
        "Conservative",
        "Con",
        "Conservatives",
        "the Conservatives",
        "#0087DC",
        ("Conservatives", "Conservative and Unionist", "Scottish Conservative", "Tory", "Tories"),
    ),
    Party(
        "LD",
        "Liberal Democrat",
        "Lib Dem",
        "Liberal Democrats",
        "the Liberal Democrats",
        "#FAA61A",
        ("Liberal Democrats", "Lib Dem", "Lib Dems", "LibDem", "Scottish Liberal Democrats"),
    ),
    Party(
        "RUK",
        "Reform UK",
        "Reform",
        "Reform UK",
        "Reform UK",
        "#12B6CF",
        ("Reform", "Brexit Party", "Brx", "Brexit"),
    ),
    Party(
        "Green",
        "Green",
        "Green",
        "Greens",
        "the Greens",
        "#02A95B",
        (
            "Green Party",
            "Grn",
            "Greens",
            "Scottish Green",
            "Scottish Greens",
            "Green Party Northern Ireland",
            "Green Party of England and Wales",
            "Wales Green",
        ),
    ),
    Party("SNP", "Scottish National Party", "SNP", "SNP", "the SNP", "#FDF38E", ()),
    Party("PC", "Plaid Cymru", "Plaid", "Plaid Cymru", "Plaid Cymru", "#005B54", ("Plaid",)),
    Party("DUP", "Democratic Unionist Party", "DUP", "DUP", "the DUP", "#D46A4C", ()),
    Party("SF", "Sinn Féin", "Sinn Féin", "Sinn Féin", "Sinn Féin", "#326760", ()),
    Party("SDLP", "Social Democratic and Labour Party", "SDLP", "SDLP", "the SDLP", "#2AA82C", ()),
    Party("UUP", "Ulster Unionist Party", "UUP", "UUP", "the UUP", "#48A5EE", ("Ulster Unionist",)),
    Party(
        "APNI",
        "Alliance",
        "Alliance",
        "Alliance",
        "Alliance",
        "#F6CB2F",
        ("All", "Alliance Party", "Alliance Party of Northern Ireland"),
    ),
    Party("TUV", "Traditional Unionist Voice", "TUV", "TUV", "the TUV", "#0C3A6A", ()),
    Party("Ind", "Independent", "Ind", "Independent", "an Independent", "#DCDCDC", ("Independents", "Indep")),
    Party(
        "Spk",
        "Speaker",
        "Speaker",
        "The Speaker",
        "the Speaker",
        "#F2F2F2",
        ("Spkr", "The Speaker", "Speaker seeking re-election"),
        singular=True,
    ),
    Party(
        "WPB",
        "Workers Party of Britain",
        "Workers Party",
        "Workers Party",
        "the Workers Party",
        "#7A1E2E",
        ("Workers Party",),
    ),
    Party(
        "Yorks",
        "Yorkshire Party",
        "Yorkshire",
        "Yorkshire Party",
        "the Yorkshire Party",
        "#1D7DC3",
        ("Yrks", "The Yorkshire Party"),
    ),
    Party("Alba", "Alba Party", "Alba", "Alba", "Alba", "#005EB8", ()),
    Party("UKIP", "UK Independence Party", "UKIP", "UKIP", "UKIP", "#6D3177", ()),
    Party("SDP", "Social Democratic Party", "SDP", "SDP", "the SDP", "#004A7F", ()),
    Party(
        "PBPA",
        "People Before Profit",
        "PBP",
        "People Before Profit",
        "People Before Profit",
        "#E91D50",
        ("PBP", "People Before Profit Alliance"),
    ),
    Party("AONT", "Aontú", "Aontú", "Aontú", "Aontú", "#44532A", ()),
)

PARTIES: dict[str, Party] = {p.code: p for p in _PARTIES}

# Column order for tables and baseline.csv: the parties a UK results page always shows first.
MAIN_PARTIES: tuple[str, ...] = (
    "Lab", "Con", "LD", "RUK", "Green", "SNP", "PC", "DUP", "SF", "SDLP", "UUP", "APNI", "TUV", "Ind", "Spk",
)  # fmt: skip


def _fold(text: str) -> str:
    """Fold case, accents, '&' and punctuation so "Sinn Fein", "sinn féin" and "SINN-FÉIN" meet."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("&", " and "))
    no_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", "", no_accents)


def fold_party(text: str) -> str:
    """A party's name or code as :func:`party_code` matches it: case, accents, ``&`` and punctuation folded."""
    return _fold(text)


def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for p in _PARTIES:
        for alias in (p.code, p.name, p.short, p.subject, *p.aliases):
            index.setdefault(_fold(alias), p.code)
    return index


_INDEX = _index()


@functools.lru_cache(maxsize=4096)  # a night names the same few parties tens of thousands of times
def party_code(text: str) -> str:
    """The party code for a code or a name, case-insensitively; an unknown party is returned as written.

    >>> party_code("labour party"), party_code("Lib Dem"), party_code("Spkr"), party_code("Brx")
    ('Lab', 'LD', 'Spk', 'RUK')
    """
    written = text.strip()
    key = _fold(written)
    if key in _INDEX:
        return _INDEX[key]
    # "The Labour Party", "Reform Party": try without the filler words people add.
    trimmed = re.sub(r"party$", "", re.sub(r"^the", "", key))
    if trimmed and trimmed in _INDEX:
        return _INDEX[trimmed]
    return written


def _distance(a: str, b: str, most: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from ``a`` to ``b``; ``most + 1`` once past ``most``."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        here = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            here[j] = min(here[j - 1] + 1, row[j] + 1, row[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                here[j] = min(here[j], before[j - 2] + 1)
        if min(here) > most:
            return most + 1
        before, row = row, here
    return row[-1]


# A typo is told from a party's own name by how long it is. Short codes sit one letter apart from real parties
# that stand (BNP and SNP, SSP and SDP, ED and LD, Lib for the Liberal Party and Lab), so text of four letters or
# fewer is never taken for a typo; five to eight letters may be one edit off a name we know ("Labor", "Grean"),
# nine or more two ("Conservatve", "Liberal Democracts"). No party name or abbreviation of the 2024 election is
# that close to a party we know (tests/test_party_slips.py reads all of them).
_SHORTEST_TYPO = 5


@functools.lru_cache(maxsize=1024)
def near_party(text: str, *, short: bool = False) -> str | None:
    """The code of the known party ``text`` is a near miss of ("Labor" → Lab), or None: known, or a party of its own.

    ``short``: also a code one letter off ours ("Lb" → Lab), which may be a real party of its own (SSP, BNP, ED):
    for a hint, never for an error.

    >>> near_party("Labor"), near_party("Conservatve"), near_party("Labour"), near_party("Heritage Party")
    ('Lab', 'Con', None, None)
    """
    key = _fold(text)
    if key in _INDEX:
        return None
    trimmed = re.sub(r"party$", "", re.sub(r"^the", "", key))
    if trimmed in _INDEX:
        return None
    # As written ("Aba Party" is a slip of "Alba Party") and without the filler words ("The Labor Party").
    forms = [form for form in {key, trimmed} if form and (len(form) >= _SHORTEST_TYPO or short)]
    best: tuple[int, str] | None = None
    for form in forms:
        most = 1 if len(form) <= 8 else 2
        for known, code in _INDEX.items():
            if len(known) < _SHORTEST_TYPO and not short:
                continue
            edits = _distance(form, known, most)
            if edits <= most and (best is None or edits < best[0]):
                best = (edits, code)
    return best[1] if best is not None else None


def party(code: str) -> Party | None:
    """The :class:`Party` for a canonical code, or None when we do not know it."""
    return PARTIES.get(code)


def is_known(code: str) -> bool:
    """Whether ``code`` is one of our canonical party codes (pass names through :func:`party_code` first)."""
    return code in PARTIES


def party_name(code: str) -> str:
    """The party's name ("Labour", "Liberal Democrat"); an unknown code names itself."""
    p = PARTIES.get(code)
    return p.name if p else code


def party_short(code: str) -> str:
    """A short label for narrow places ("Lib Dem", "Reform"); an unknown code is its own label."""
    p = PARTIES.get(code)
    return p.short if p else code


def party_subject(code: str) -> str:
    """The party as a headline's subject: "Conservatives", "Labour", "The Speaker"."""
    p = PARTIES.get(code)
    return p.subject if p else code


def party_object(code: str) -> str:
    """The party after "from" in a headline: "the Conservatives", "Labour", "an Independent"."""
    p = PARTIES.get(code)
    return p.object if p else code


def party_colour(code: str) -> str:
    """The hex colour for the party's bars; a neutral grey for parties we do not know."""
    p = PARTIES.get(code)
    return p.colour if p else NEUTRAL_COLOUR


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#RRGGBB``."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio between two ``#RRGGBB`` colours (1 to 21)."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def party_text_colour(code: str) -> str:
    """Black or white, whichever contrasts more with the party's colour.

    The better of the two always reaches at least 4.58:1, so it passes WCAG AA for normal text.
    """
    bar = party_colour(code)
    return "#000000" if contrast_ratio("#000000", bar) >= contrast_ratio("#FFFFFF", bar) else "#FFFFFF"
