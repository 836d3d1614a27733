"""Tests for workers.extraction.segment.split_sentences.

The real articles are read from the shared data folder next to the repository at run time;
their text is never copied here.  Hand-written cases use invented sentences.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.shared_data import FIRST_ARTICLE, SECOND_ARTICLE, shared_article
from workers.extraction.segment import Segment, split_sentences

REPO_ROOT = Path(__file__).resolve().parents[3]

LINE_BREAK_CHARS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def assert_invariants(text: str, segments: list[Segment]) -> None:
    """The contract every caller relies on: exact, stripped, ordered, non-empty spans."""
    previous_end = 0
    for segment in segments:
        assert segment.text, segment
        assert text[segment.start : segment.end] == segment.text, segment
        assert segment.text == segment.text.strip(), segment
        assert not any(ch in LINE_BREAK_CHARS for ch in segment.text), segment
        assert segment.start >= previous_end, segment
        assert segment.kind in {
            "sentence", "headline", "byline", "metadata", "dateline", "caption", "credit",
        }  # fmt: skip
        previous_end = segment.end


def texts(text: str) -> list[str]:
    segments = split_sentences(text)
    assert_invariants(text, segments)
    return [segment.text for segment in segments]


# --- real articles -----------------------------------------------------------------------


@pytest.mark.parametrize("name", [FIRST_ARTICLE, SECOND_ARTICLE])
def test_real_article_offsets_are_exact(name: str) -> None:
    text = shared_article(name)
    segments = split_sentences(text)
    assert len(segments) > 5
    assert_invariants(text, segments)


@pytest.mark.parametrize("name", [FIRST_ARTICLE, SECOND_ARTICLE])
def test_real_article_covers_every_non_space_character(name: str) -> None:
    text = shared_article(name)
    covered = "".join(segment.text for segment in split_sentences(text))
    assert re.sub(r"\s+", "", covered) == re.sub(r"\s+", "", text)


def test_first_article_boilerplate_kinds() -> None:
    segments = split_sentences(shared_article(FIRST_ARTICLE))
    assert [segment.kind for segment in segments[:3]] == ["metadata", "headline", "byline"]
    assert re.fullmatch(r"date \d{4}-\d{2}-\d{2}", segments[0].text)
    # The metadata prefix and the headline glued to it on the same line are split apart.
    assert segments[1].start > segments[0].end
    assert not segments[1].text[0].isdigit()
    assert segments[2].text.startswith("By ")
    assert all(segment.kind == "sentence" for segment in segments[3:])
    assert not any(
        segment.kind == "sentence" and segment.text.startswith("By ") for segment in segments
    )


def test_first_article_body_paragraph_splits_into_sentences() -> None:
    text = shared_article(FIRST_ARTICLE)
    segments = split_sentences(text)
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    body = [segment for segment in segments if segment.kind == "sentence"]
    # Some paragraphs hold two sentences, so there are more sentences than body paragraphs.
    assert len(body) > len(paragraphs) - 2
    assert all(segment.text[-1] in ".!?" for segment in body)


def test_second_article_headline_and_dateline() -> None:
    segments = split_sentences(shared_article(SECOND_ARTICLE))
    assert segments[0].kind == "headline"
    dateline, first = segments[1], segments[2]
    assert dateline.kind == "dateline"
    assert re.fullmatch(r"[A-Z]{2,}(?: [A-Z]{2,})* [\u2014-]", dateline.text)
    assert first.kind == "sentence"
    assert first.text.startswith("The ")
    assert first.text.endswith(".")


def test_second_article_quotes_and_acronyms() -> None:
    segments = split_sentences(shared_article(SECOND_ARTICLE))
    closing = "\u201d\u2019\"')]"
    for segment in segments:
        # A closing quote belongs to the sentence it ends, never to the next one.
        assert segment.text[0] not in closing, segment
        # Dotted acronyms inside running text do not end sentences.
        assert not segment.text.endswith("U.S."), segment
    body = [segment for segment in segments if segment.kind == "sentence"]
    assert any(segment.text.endswith(".\u201d") for segment in body)


# --- hand-written cases -------------------------------------------------------------------


def test_empty_and_whitespace_only_input() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\t\r\n  \u2028 \n") == []


def test_simple_sentences_and_question_exclamation_runs() -> None:
    assert texts("Is it raining?! Bring a coat! Or stay home. Fine... Then we wait?") == [
        "Is it raining?!",
        "Bring a coat!",
        "Or stay home.",
        "Fine...",
        "Then we wait?",
    ]


def test_no_split_before_lowercase_word() -> None:
    assert texts("Wait... what happened? nobody knew. Really.") == [
        "Wait... what happened? nobody knew.",
        "Really.",
    ]


def test_title_abbreviations_do_not_end_sentences() -> None:
    text = (
        "Mr. Avery met Dr. Bell and Prof. Chen. Gen. Dorn, Lt. Col. Ekko and Sgt. Fay "
        "waited. Gov. Gale spoke with Sen. Hart, Rep. Ives and Rev. Jarl at St. Kit's."
    )
    assert texts(text) == [
        "Mr. Avery met Dr. Bell and Prof. Chen.",
        "Gen. Dorn, Lt. Col. Ekko and Sgt. Fay waited.",
        "Gov. Gale spoke with Sen. Hart, Rep. Ives and Rev. Jarl at St. Kit's.",
    ]


def test_other_abbreviations_do_not_end_sentences() -> None:
    text = (
        "Orvin Co. and Pell Corp. Europe merged, e.g. in Jan. 2024 or Sept. 2025 at No. 4 "
        "Quay, vs. Tarn Ltd. Ireland etc. and more. It worked."
    )
    assert texts(text) == [
        "Orvin Co. and Pell Corp. Europe merged, e.g. in Jan. 2024 or Sept. 2025 at No. 4 "
        "Quay, vs. Tarn Ltd. Ireland etc. and more.",
        "It worked.",
    ]


def test_dotted_acronyms() -> None:
    text = (
        "The U.S. military left and U.K. Ministers met U.N. envoys in the E.U. Parliament. "
        "Prices rose in the U.S. The rise was small."
    )
    assert texts(text) == [
        "The U.S. military left and U.K. Ministers met U.N. envoys in the E.U. Parliament.",
        "Prices rose in the U.S.",
        "The rise was small.",
    ]


def test_acronym_at_end_of_line_ends_segment() -> None:
    assert texts("Troops returned to the U.S.\nOfficials agreed.") == [
        "Troops returned to the U.S.",
        "Officials agreed.",
    ]


def test_number_abbreviation_before_word_ends_sentence() -> None:
    assert texts("She answered no. No. 7 was next.") == ["She answered no.", "No. 7 was next."]


def test_initials() -> None:
    assert texts("John F. Kennedy quoted J. K. Tolman. A. B. Carver agreed.") == [
        "John F. Kennedy quoted J. K. Tolman.",
        "A. B. Carver agreed.",
    ]


def test_decimals_and_numbers() -> None:
    assert texts("Growth hit 3.5 percent, or 1.2 million jobs. 2025 was better.") == [
        "Growth hit 3.5 percent, or 1.2 million jobs.",
        "2025 was better.",
    ]


def test_curly_quotes_close_the_sentence() -> None:
    assert texts("He said \u201cYes.\u201d Then he left.") == [
        "He said \u201cYes.\u201d",
        "Then he left.",
    ]
    assert texts("She asked \u2018Why?\u2019 Nobody replied.") == [
        "She asked \u2018Why?\u2019",
        "Nobody replied.",
    ]


def test_straight_quotes_and_brackets_close_the_sentence() -> None:
    assert texts('He said "Stop!" Then "Go." (It was late.) Next day.') == [
        'He said "Stop!"',
        'Then "Go."',
        "(It was late.)",
        "Next day.",
    ]
    assert texts("She wrote 'Done.' After that, silence.") == [
        "She wrote 'Done.'",
        "After that, silence.",
    ]


def test_period_after_closing_quote_stays_with_sentence() -> None:
    assert texts("They called it \u201ca milestone.\u201d. Others disagreed.") == [
        "They called it \u201ca milestone.\u201d.",
        "Others disagreed.",
    ]


def test_opening_quote_starts_next_sentence() -> None:
    assert texts("The talks ended. \u201cWe are done,\u201d she said.") == [
        "The talks ended.",
        "\u201cWe are done,\u201d she said.",
    ]


def test_multi_sentence_quote_splits_without_stealing_closing_quote() -> None:
    assert texts("He said: \u201cFirst. Second.\u201d Third.") == [
        "He said: \u201cFirst.",
        "Second.\u201d",
        "Third.",
    ]


def test_zero_width_characters_do_not_block_a_split() -> None:
    text = "The trial ended.\u200b \u201cIt worked,\u201d she said. \u200bCosts fell\u200b. Done."
    assert texts(text) == [
        "The trial ended.",
        "\u201cIt worked,\u201d she said.",
        "Costs fell\u200b.",
        "Done.",
    ]


def test_numbered_list_items_are_not_split_after_the_number() -> None:
    text = "The plan has parts:\n1. Cut taxes.\n2. Raise spending. Then review.\n10. Reform courts."
    assert texts(text) == [
        "The plan has parts:",
        "1. Cut taxes.",
        "2. Raise spending.",
        "Then review.",
        "10. Reform courts.",
    ]
    # Only a number that opens the line is a list marker.
    assert texts("The count reached 12. Then it fell.") == [
        "The count reached 12.",
        "Then it fell.",
    ]


def test_web_address_starts_a_sentence() -> None:
    text = (
        "Officials denied the claim. https://t.co/Ab12 was shared widely. www.example.org agreed."
    )
    assert texts(text) == [
        "Officials denied the claim.",
        "https://t.co/Ab12 was shared widely.",
        "www.example.org agreed.",
    ]


def test_a_wire_dateline_is_a_segment_of_its_own() -> None:
    text = (
        "NORTHPORT \u2014 The mayor opened the bridge. Traffic resumed.\n"
        "SOUTH BAY - Rain fell.\n"
        "WASHINGTON (Reuters) - The Senate voted 52-48.\n"
        "LONDON, Jan. 5 (AP) \u2014 \u201cWe won,\u201d she said.\n"
        "US - China talks resume\n"
        "BREAKING \u2014 Markets crash\n"
    )
    segments = split_sentences(text)
    assert_invariants(text, segments)
    assert [(s.kind, s.text) for s in segments] == [
        ("dateline", "NORTHPORT \u2014"),
        ("sentence", "The mayor opened the bridge."),
        ("sentence", "Traffic resumed."),
        ("dateline", "SOUTH BAY -"),
        ("sentence", "Rain fell."),
        ("dateline", "WASHINGTON (Reuters) -"),
        ("sentence", "The Senate voted 52-48."),
        ("dateline", "LONDON, Jan. 5 (AP) \u2014"),
        ("sentence", "\u201cWe won,\u201d she said."),
        # A two-letter word, or a line that is not prose, is not a dateline.
        ("headline", "US - China talks resume"),
        ("headline", "BREAKING \u2014 Markets crash"),
    ]


def test_a_dateline_is_never_a_claim() -> None:
    from workers.extraction.engine import extract

    claims = extract("TEHRAN \u2014 Officials said on Sunday that 12 people died.")
    assert [(c["kind"], c["checkworthy"]) for c in claims] == [
        ("dateline", False),
        ("sentence", True),
    ]
    assert claims[1]["text"].startswith("Officials said")
    assert claims[1]["speaker"] == "Officials"


def test_emoji_offsets_are_code_points() -> None:
    text = "\U0001f600 Hello there. \U0001f30d\U0001f680 Big news today! Done."
    segments = split_sentences(text)
    assert_invariants(text, segments)
    assert [s.text for s in segments] == [
        "\U0001f600 Hello there.",
        "\U0001f30d\U0001f680 Big news today!",
        "Done.",
    ]
    # Each emoji is one code point (two UTF-16 units, four UTF-8 bytes).
    assert segments[1].start == len("\U0001f600 Hello there. ") == 15
    assert segments[2].start == 15 + len("\U0001f30d\U0001f680 Big news today! ")


def test_windows_line_endings() -> None:
    text = "Harbour Reopens\r\n\r\nBy Ann Lee\r\nShips sailed. Crews cheered.\r\nAll done.\r\n"
    segments = split_sentences(text)
    assert_invariants(text, segments)
    assert [(s.kind, s.text) for s in segments] == [
        ("headline", "Harbour Reopens"),
        ("byline", "By Ann Lee"),
        ("sentence", "Ships sailed."),
        ("sentence", "Crews cheered."),
        ("sentence", "All done."),
    ]
    assert all("\r" not in s.text for s in segments)


def test_every_newline_ends_a_segment() -> None:
    assert texts("first line continues\nhere on the next line.\n\nNew paragraph.") == [
        "first line continues",
        "here on the next line.",
        "New paragraph.",
    ]


def test_metadata_glued_to_headline() -> None:
    text = "  date 2031-05-02 Town Council Approves New Harbour Plan\n\nThe vote was close."
    segments = split_sentences(text)
    assert_invariants(text, segments)
    assert [(s.kind, s.text) for s in segments] == [
        ("metadata", "date 2031-05-02"),
        ("headline", "Town Council Approves New Harbour Plan"),
        ("sentence", "The vote was close."),
    ]


def test_metadata_only_lines() -> None:
    text = "published: 2031-05-02T08:30Z\nupdated 2031-05-03\nThe vote was close."
    assert [s.kind for s in split_sentences(text)] == ["metadata", "metadata", "sentence"]


def test_byline_variants() -> None:
    for line in ("By Staff, Agencies", "By Jane Doe and John Roe", "BY ANN LEE"):
        segments = split_sentences(f"Harbour Plan Approved\n{line}\nThe vote was close.")
        assert [s.kind for s in segments] == ["headline", "byline", "sentence"], line


def test_by_sentence_is_not_a_byline() -> None:
    segments = split_sentences("By Monday the harbour had reopened.")
    assert [s.kind for s in segments] == ["sentence"]
    segments = split_sentences("By the time the storm passed the harbour was quiet")
    assert [s.kind for s in segments] == ["headline"]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Reporting by Jane Doe; Editing by Bob Roe", "credit"),
        ("Additional reporting by Ann Lee in Paris", "credit"),
        ("Read more: How the harbour vote was won", "credit"),
        ("Photo: Harbour Authority", "credit"),
        ("Source: Port statistics office", "credit"),
        ("\u00a9 2026 Harbour News. All rights reserved.", "credit"),
        (
            "Dockers march past the quay on 3 March 2026. (Photo by Jane Doe/Getty Images)",
            "caption",
        ),
        ("The new crane is lifted into place. (AP Photo/John Roe)", "caption"),
        ("The minister tours the port. REUTERS/Jane Doe", "caption"),
        ("Police said 40 people were held. AFP via Getty Images", "caption"),
        ("Sources said the harbour will reopen. The photo was taken in May.", "sentence"),
        ('The minister said: "Photo: none." It rained.', "sentence"),
    ],
)
def test_captions_and_credits_are_whole_non_claim_lines(line: str, kind: str) -> None:
    text = f"Harbour Plan Approved\n{line}\nThe vote was close."
    segments = split_sentences(text)
    assert_invariants(text, segments)
    middle = [s for s in segments if s.start > 0 and not s.text.startswith("The vote")]
    assert {s.kind for s in middle} == {kind}
    if kind != "sentence":
        assert [s.text for s in middle] == [line]


def test_a_caption_or_credit_is_never_a_check_worthy_claim() -> None:
    from workers.extraction.engine import extract

    body = (
        "Harbour Plan Approved\n"
        "Dockers march past the quay. 4,000 jobs were lost in 2025. (Photo by Jane Doe/AFP)\n"
        "Unemployment in the port rose 12% in 2025, the harbour office said.\n"
        "Reporting by Jane Doe; Editing by Bob Roe\n"
    )
    claims = {c["kind"]: c for c in extract(body)}
    for kind in ("caption", "credit"):
        assert claims[kind]["checkworthy"] is False
        assert claims[kind]["checkworthiness"] == 0.0
        assert claims[kind]["types"] == []
        assert claims[kind]["speaker"] is None
    assert claims["sentence"]["checkworthy"] is True


def test_headline_versus_sentence_kinds() -> None:
    long_line = " ".join(["word"] * 25)
    text = f"Short Title Here\nA short line.\nWhy Ports Matter?\n{long_line}"
    assert [s.kind for s in split_sentences(text)] == [
        "headline",
        "sentence",
        "sentence",
        "sentence",
    ]


def test_large_generated_text() -> None:
    paragraph = (
        "Mr. Quill said the U.S. port moved 3.5 million tons. "
        "\u201cIt was a record,\u201d he added. Was it? Yes! "
        "J. R. Moss of Vane Corp. disagreed, e.g. on costs.\n"
    )
    text = "Harbour Report\nBy Staff\n" + paragraph * (5_000_000 // len(paragraph))
    assert len(text) >= 4_900_000
    segments = split_sentences(text)
    assert len(segments) == 2 + 5 * (len(text.splitlines()) - 2)
    step = max(1, len(segments) // 2000)
    assert_invariants(text, segments[::step])
    assert_invariants(text, segments[-50:])


def test_pathological_input_completes() -> None:
    text = "." * 200_000 + " " + ".\u201d" * 100_000 + " x" + " ." * 100_000 + "Mr. " * 50_000
    segments = split_sentences(text)
    assert_invariants(text, segments)
    assert segments
