"""Tests for workers.extraction.entities.find_entities (invented sentences + real article)."""

from __future__ import annotations

import pytest

from tests.shared_data import shared_article
from workers.extraction.entities import find_entities


def labels(text: str) -> dict[str, str]:
    found = find_entities(text)
    for item in found:
        assert text[item["start"] : item["end"]] == item["text"]
    return {item["text"]: item["label"] for item in found}


def test_title_marks_person_and_is_dropped():
    found = labels("Norwegian Trade Minister Ingrid Solberg met Dr. Tomas Vell in Oslo.")
    assert found == {"Ingrid Solberg": "PERSON", "Tomas Vell": "PERSON", "Oslo": "PLACE"}


def test_of_and_for_join_organisation_names():
    found = labels("The Relief Mission for Chad and the Bank of Lisbon signed a pact.")
    assert found["Relief Mission for Chad"] == "ORG"
    assert found["Bank of Lisbon"] == "ORG"


def test_and_joins_only_inside_an_organisation_name():
    found = labels("Shares of Harlow and Company rose while Peru and Chile watched.")
    assert found["Harlow and Company"] == "ORG"
    assert found["Peru"] == "PLACE"
    assert found["Chile"] == "PLACE"


def test_acronyms():
    found = labels("Staff at UNESCO and the U.S. embassy spoke to the CDC and ZORBAT.")
    assert found["UNESCO"] == "ORG"
    assert found["U.S."] == "PLACE"
    assert found["CDC"] == "ORG"
    assert found["ZORBAT"] == "ORG"


def test_hyphenated_place_names_and_gazetteer():
    found = labels("Troops left the Qal Al-Barid camp near Baghdad.")
    assert "Qal Al-Barid" in found
    assert found["Baghdad"] == "PLACE"


@pytest.mark.parametrize(
    "sentence",
    [
        "The river rose. However, the dam held.",
        "Speaking slowly, the pilot waved.",
        "Meanwhile the crowd cheered.",
    ],
)
def test_sentence_initial_words_are_not_entities(sentence):
    assert find_entities(sentence) == []


def test_speech_verb_and_earlier_mention_make_a_person():
    found = labels("Marta Kowal said the bridge was safe. Later Kowal left for Kyiv.")
    assert found["Marta Kowal"] == "PERSON"
    assert found["Kowal"] == "PERSON"
    assert found["Kyiv"] == "PLACE"


def test_real_article_entities():
    text = shared_article("000_dfb115d791d1cf54.txt")
    found = find_entities(text)
    for item in found:
        assert text[item["start"] : item["end"]] == item["text"]
    pairs = {(item["text"], item["label"]) for item in found}
    assert ("Abbas Araghchi", "PERSON") in pairs
    assert ("Fuad Hussein", "PERSON") in pairs
    assert ("UN Assistance Mission for Iraq", "ORG") in pairs
    assert ("UNAMI", "ORG") in pairs
    assert ("Tehran", "PLACE") in pairs
    assert any(item["text"] == "Ain Al-Asad" for item in found)
    assert not {"Speaking", "According", "He"} & {item["text"] for item in found}


def test_chain_words_after_punctuation_and_inside_words():
    from workers.extraction.entities import find_entities

    text = (
        "Officials in the U.S. met Dr. Helen Marsh of Meridian Capital and the McDonald-Smith team."
    )
    found = find_entities(text)
    for item in found:
        assert text[item["start"] : item["end"]] == item["text"]
    assert [(item["text"], item["label"]) for item in found] == [
        ("U.S.", "PLACE"),
        ("Helen Marsh", "PERSON"),
        ("Meridian Capital", "ORG"),
        ("McDonald-Smith", "OTHER"),  # "Donald" inside a word starts no mention
    ]


def test_a_sentence_initial_word_is_a_name_unless_it_also_appears_in_lower_case():
    # One long text without full stops, where the clauses after semicolons start sentences:
    # each word is looked up among the text's words, found once for the whole text.
    text = "Rain fell hard; rain is common here; Smith left; Storms came and storms went"
    assert [e["text"] for e in find_entities(text)] == ["Smith"]
    long_text = "; ".join(f"Smith{i} left and rain{i} fell; Rain{i} came" for i in range(300))
    found = {e["text"] for e in find_entities(long_text)}
    assert found == {f"Smith{i}" for i in range(300)}  # "rainN" is in lower case too
