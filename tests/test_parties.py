"""Party codes, names and colours."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from countnight.parties import (
    MAIN_PARTIES,
    NEUTRAL_COLOUR,
    PARTIES,
    contrast_ratio,
    is_known,
    party_code,
    party_colour,
    party_name,
    party_object,
    party_short,
    party_subject,
    party_text_colour,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("lab", "Lab"),
        ("LAB", "Lab"),
        ("Labour", "Lab"),
        ("Labour Party", "Lab"),
        ("The Labour Party", "Lab"),
        ("Labour and Co-operative", "Lab"),
        ("con", "Con"),
        ("Conservative", "Con"),
        ("Conservatives", "Con"),
        ("Reform UK", "RUK"),
        ("reform", "RUK"),
        ("ruk", "RUK"),
        ("Lib Dem", "LD"),
        ("lib dems", "LD"),
        ("Liberal Democrats", "LD"),
        ("Liberal Democrat", "LD"),
        ("Green Party", "Green"),
        ("green", "Green"),
        ("Scottish Green Party", "Green"),
        ("Plaid Cymru", "PC"),
        ("Scottish National Party", "SNP"),
        ("Sinn Fein", "SF"),
        ("Sinn Féin", "SF"),
        ("Alliance", "APNI"),
        ("All", "APNI"),
        ("Speaker", "Spk"),
        ("Spkr", "Spk"),
        ("Independent", "Ind"),
        ("  ind ", "Ind"),
        ("Brx", "RUK"),
        ("Brexit Party", "RUK"),
        ("Yrks", "Yorks"),
        ("Workers Party of Britain", "WPB"),
    ],
)
def test_party_code_folds_names_and_codes(text: str, code: str) -> None:
    assert party_code(text) == code


@pytest.mark.parametrize("text", ["Monster Raving Loony", "Alliance for Democracy and Freedom", "HPUK", ""])
def test_unknown_party_is_kept_as_written(text: str) -> None:
    assert party_code(f"  {text} ") == text


def test_every_code_is_a_fixed_point() -> None:
    for code in PARTIES:
        assert party_code(code) == code
        assert party_code(party_name(code)) == code
        assert party_code(code.lower()) == code


def test_main_parties_are_known() -> None:
    assert all(is_known(code) for code in MAIN_PARTIES)
    assert not is_known("Labour")  # a name, not a code: pass it through party_code first
    assert not is_known("HPUK")


@pytest.mark.parametrize(
    ("code", "name", "short"),
    [
        ("Lab", "Labour", "Lab"),
        ("Con", "Conservative", "Con"),
        ("LD", "Liberal Democrat", "Lib Dem"),
        ("RUK", "Reform UK", "Reform"),
        ("Green", "Green", "Green"),
        ("APNI", "Alliance", "Alliance"),
        ("Spk", "Speaker", "Speaker"),
        ("HPUK", "HPUK", "HPUK"),
    ],
)
def test_names(code: str, name: str, short: str) -> None:
    assert party_name(code) == name
    assert party_short(code) == short


def test_headline_phrases() -> None:
    assert (party_subject("Con"), party_object("Con")) == ("Conservatives", "the Conservatives")
    assert (party_subject("Lab"), party_object("Lab")) == ("Labour", "Labour")
    assert (party_subject("Ind"), party_object("Ind")) == ("Independent", "an Independent")
    assert (party_subject("Foo"), party_object("Foo")) == ("Foo", "Foo")


def test_colours_are_hex_and_unknown_is_grey() -> None:
    for code in PARTIES:
        assert re.fullmatch(r"#[0-9A-F]{6}", party_colour(code))
    assert party_colour("Nobody") == NEUTRAL_COLOUR
    assert party_colour("Lab") != party_colour("Con")


def test_text_colour_passes_wcag_aa_on_every_party() -> None:
    for code in [*PARTIES, "Nobody"]:
        text = party_text_colour(code)
        assert text in ("#000000", "#FFFFFF")
        assert contrast_ratio(text, party_colour(code)) >= 4.5, code
    assert party_text_colour("Lab") == "#FFFFFF"  # Labour red is dark enough for white text
    assert party_text_colour("SNP") == "#000000"  # SNP yellow needs black


@given(st.integers(0, 0xFFFFFF))
def test_black_or_white_always_reaches_aa(rgb: int) -> None:
    background = f"#{rgb:06X}"
    assert max(contrast_ratio("#000000", background), contrast_ratio("#FFFFFF", background)) >= 4.5


def test_contrast_ratio_extremes() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1)
