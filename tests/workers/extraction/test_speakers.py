"""Tests for workers.extraction.speakers.attribute_speakers (invented text + real articles)."""

from __future__ import annotations

import json

import pytest

from tests.shared_data import shared_article, shared_path
from workers.extraction.segment import Segment, split_sentences
from workers.extraction.speakers import attribute_speakers


def speakers_of(body: str) -> list[tuple[str, str | None]]:
    segments = split_sentences(body)
    return [
        (s.text, who) for s, who in zip(segments, attribute_speakers(body, segments), strict=True)
    ]


def test_quotes_reported_speech_and_pronouns():
    body = (
        "Harbour Minister Lotte Brenn said the quay was finished.\n"
        "“It cost less than planned,” Brenn stated.\n"
        "She added that the ferries would return.\n"
        "“The water is warmer than ever,” said Dr. Helen Marsh, who led the survey.\n"
        "According to Paul Okafor, the fish stocks are stable.\n"
        "The quay is 300 metres long.\n"
        "The minister said the quay would open in May.\n"
    )
    assert [who for _, who in speakers_of(body)] == [
        "Lotte Brenn",
        "Brenn",
        "Brenn",
        "Helen Marsh",
        "Paul Okafor",
        None,
        "Lotte Brenn",
    ]


def test_quote_before_and_multi_sentence_quote():
    body = (
        "Tomas Vell said the river rose. He said: “We saw the flood. It was huge.”\n"
        "“Roads closed. Shops shut,” Vell told reporters.\n"
        "“Nobody expected it.” The council issued a warning.\n"
    )
    result = speakers_of(body)
    assert result[1] == ("He said: “We saw the flood.", "Tomas Vell")
    assert result[2][1] == "Tomas Vell"
    assert result[3] == ("“Roads closed.", "Vell")
    assert result[4][1] == "Vell"
    assert result[6][1] is None


def test_titles_and_nationality_are_dropped():
    body = "Chilean Mining Minister Rosa Ibarra, for her part, stressed that output had doubled.\n"
    assert speakers_of(body)[0][1] == "Rosa Ibarra"


def test_a_place_after_the_subject_is_not_the_speaker():
    body = (
        "The Ministry of Health in Paris said 40,000 doses arrived.\n"
        "Officials in Kyiv said 300 drones were launched.\n"
        "A spokesman at the UN said aid would resume.\n"
        "Prices in Lyon rose 3%, Marie Roux said.\n"
    )
    assert [who for _, who in speakers_of(body)] == [
        "Ministry of Health",
        "Officials",
        "A spokesman",
        "Marie Roux",
    ]


def test_a_dotted_country_abbreviation_stays_in_a_group_speaker():
    body = (
        "U.S. authorities first denied any casualties.\n"
        "The U.K. health ministry said 12 people died.\n"
        "Senior U.N. officials noted that aid would resume.\n"
    )
    assert [who for _, who in speakers_of(body)] == [
        "U.S. authorities",
        "U.K. health ministry",
        "U.N. officials",
    ]


def test_writer_statements_have_no_speaker():
    body = "The bridge opened in 1990. Traffic doubled within a decade.\n"
    assert [who for _, who in speakers_of(body)] == [None, None]


def _article_speakers(name: str) -> list[tuple[str, str | None]]:
    return speakers_of(shared_article(name))


def test_first_article_reports_araghchi_and_hussein():
    result = _article_speakers("000_dfb115d791d1cf54.txt")
    araghchi = [(t, who) for t, who in result if t.startswith(("Araghchi said", "According to"))]
    assert araghchi
    assert all(who in ("Araghchi", "Abbas Araghchi") for _, who in araghchi)
    by_start = {t.split()[0] + " " + t.split()[1]: who for t, who in result}
    assert by_start["He noted"] in ("Araghchi", "Abbas Araghchi")
    assert by_start["He added"] in ("Araghchi", "Abbas Araghchi")
    assert by_start["Hussein added"] == "Hussein"
    assert by_start["He also"] in ("Hussein", "Fuad Hussein")
    hussein = [who for t, who in result if t.startswith("Iraqi Foreign Minister Fuad Hussein")]
    assert hussein == ["Fuad Hussein"]
    assert result[0][1] is None  # the dateline


def test_second_article_quotes():
    result = _article_speakers("001_1c9f022aa12bfb98.txt")
    quoted = [who for t, who in result if t.startswith("\u201c")]
    assert quoted
    assert all(who == "Araghchi" for who in quoted)
    stated = [who for t, who in result if t.startswith("Fuad Hussein stated")]
    assert stated == ["Fuad Hussein"]
    assert sum(who is None for _, who in result) >= 10  # the writer's own background


def test_newsclaims_claimer_accuracy():
    """Claimers named in the sentence are found for at least half of the labelled claims."""
    claims_path = shared_path("newsclaims-dev/claims.json")
    claims = json.loads(claims_path.read_text(encoding="utf-8"))
    sentences = json.loads((claims_path.parent / "sentences.json").read_text(encoding="utf-8"))
    hits = total = 0
    for article, labelled in claims.items():
        ordered = sorted(sentences[article].items(), key=lambda kv: kv[1]["start_char"])
        segments, position = [], 0
        for _, item in ordered:
            text = item["sentence"]
            segments.append(Segment(position, position + len(text), text, "sentence"))
            position += len(text) + 1
        body = "\n".join(item["sentence"] for _, item in ordered)
        found = dict(
            zip((sid for sid, _ in ordered), attribute_speakers(body, segments), strict=True)
        )
        for sentence_id, claim in labelled.items():
            if not claim.get("claimer_in_sentence"):
                continue
            total += 1
            gold, got = claim["claimer"].strip().lower(), (found[sentence_id] or "").lower()
            hits += bool(got) and (gold in got or got in gold)
    assert total > 20
    assert hits / total >= 0.55


def _reference_subject(sentence: str) -> tuple[str | None, bool]:
    """_find_subject as a plain scan of every pattern over the whole sentence."""
    from workers.extraction import speakers as sp

    match = sp._QUOTE_AFTER_RE.search(sentence)
    if match is not None:
        return match["s1"] or match["s2"], True
    match = sp._QUOTE_BEFORE_RE.search(sentence)
    if match is not None and sp._outside_quotes(sentence, match.start()):
        return match["s"], True
    match = sp._SAYS_NAME_RE.search(sentence)
    if match is not None and sp._outside_quotes(sentence, match.start()):
        return match["s"], False
    for match in sp._TRAILING_RE.finditer(sentence):
        if sp._outside_quotes(sentence, match.start()) and not sp._TRAILING_RE.search(
            sentence, match.start() + 1
        ):
            return match["s"], False
    for match in sp._REPORTED_RE.finditer(sentence):
        if sp._outside_quotes(sentence, match.start()):
            return match["s"], False
    match = sp._ACCORDING_RE.search(sentence)
    if match is not None and sp._outside_quotes(sentence, match.start()):
        return match["s"], False
    match = sp._INITIAL_SUBJECT_RE.match(sentence)
    if match is not None and sp.PARTICIPLE_RE.search(sentence):
        return match["s"], False
    return None, False


@pytest.mark.parametrize(
    "sentence",
    [
        "Dr. Helen Marsh, who has led the agency's work on water (and on air; mostly), said it.",
        'Iraqi Foreign Minister Fuad Hussein, for his part, emphasized: "We will stay."',
        '"We will stay," he said; the minister later added that "nothing" had changed.',
        "The reports, notes and states found nothing; officials said on Monday it was fine.",
        "Both senior health officials (WHO) have repeatedly warned that cases rose.",
        "He noted, in a long statement that ran past one hundred and fifty characters without a "
        "single comma anywhere in it at all until the very end of it right here, that it rose.",
        'She told reporters: "It is over." Then "more" came, according to the ministry.',
        "Prices rose, says Anna Lee, an economist at the bank.",
        "McDonald said nothing, Araghchi stated, noting that talks continue.",
        "Rents rose 4%, the city's housing office said on Monday, citing its own survey.",
        "Officials said, the office said, that rents rose, the statistics office said.",
        'Rents rose, "the office said," in May, the housing office said.',
        "Wages rose 2%, the office said, adding that it said so in May.",
    ],
)
def test_windowed_search_finds_what_the_full_scan_finds(sentence):
    from workers.extraction import speakers as sp

    assert sp._find_subject(sentence) == _reference_subject(sentence)


def test_a_clause_that_names_its_own_speaker_gets_it():
    from workers.extraction.engine import extract

    body = (
        "U.S. authorities first denied any casualties, but American media later admitted "
        "that many soldiers had sustained injuries.\n"
        "Araghchi said Iran supports Iraq, and he added that talks would continue.\n"
    )
    found = [(c["kind"], c["speaker"]) for c in extract(body)]
    assert found == [
        ("sentence", "U.S. authorities"),
        ("clause", "U.S. authorities"),
        ("clause", "American media"),
        ("reported", "American media"),  # "many soldiers had sustained injuries."
        ("sentence", "Araghchi"),
        ("clause", "Araghchi"),
        ("clause", "Araghchi"),  # "he": whoever the sentence named
    ]


def test_a_conjunction_never_opens_a_group_speaker():
    body = (
        "Prices rose 5% in May, but officials said wages kept pace.\n"
        "Rents fell, and analysts noted that demand was weak.\n"
        "Many experts and officials said the plan would fail.\n"
    )
    assert [who for _, who in speakers_of(body)] == [
        "officials",
        "analysts",
        "Many experts and officials",
    ]


def test_a_trailing_attribution_names_the_speaker_of_its_sentence():
    body = (
        "Unemployment fell to 4.1% in May, the statistics office said.\n"
        "Rents rose 6% last year, the city's housing office said on Tuesday.\n"
        "Bus fares will rise in June, said the transport authority.\n"
        "Wages rose 2%, the office said, adding that prices rose faster.\n"
        "Wages rose 2%, Marie Roux said.\n"
        "Crime rose 12% last year, the mayor said.\n"
    )
    assert [who for _, who in speakers_of(body)] == [
        "the statistics office",
        "the city's housing office",
        "the transport authority",
        "the office",
        "Marie Roux",
        "the mayor",
    ]


def test_an_attribution_in_mid_sentence_is_not_a_trailing_one():
    from workers.extraction.speakers import find_cue

    cue = find_cue("Unemployment fell, the statistics office said, to 4.1% in May.")
    assert cue is None or cue.pattern != "trailing"
    closing = find_cue("Unemployment fell to 4.1% in May, the statistics office said.")
    assert closing is not None
    assert (closing.pattern, closing.subject, closing.closing) == (
        "trailing",
        "the statistics office",
        True,
    )


def test_offices_and_institutions_are_speakers():
    body = (
        "The mayor said crime rose 12% last year.\n"
        "The company reported that profits fell 8% to $2bn.\n"
        "According to federal prosecutors, the lab received $1.5 million.\n"
    )
    assert [who for _, who in speakers_of(body)] == [
        "The mayor",
        "The company",
        "federal prosecutors",
    ]
