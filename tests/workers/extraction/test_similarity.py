"""Similarity keys (MinHash + LSH bands) and the exact Jaccard similarity they stand in for."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from tests.factories import REPO
from workers.extraction.similarity import (
    BANDS,
    jaccard,
    similarity_keys,
    similarity_keys_many,
)

# Twenty words, none repeated: 19 bigrams.
SENTENCE = (
    "The council approved a budget of four million dollars for public schools and rural roads "
    "on Monday evening after debate."
)
EDITED = SENTENCE.replace("Monday", "Tuesday")
UNRELATED = "Heavy snowfall closed every mountain pass in the north, stranding hundreds of lorries."
VOCABULARY = (
    "council", "budget", "school", "road", "minister", "police", "report", "rate", "tax",
    "price", "wage", "hospital", "river", "bridge", "harbour", "market", "election", "vote",
    "union", "strike", "farmer", "court", "judge", "village", "city", "park", "rail", "bus",
    "airport", "water", "power", "energy", "housing", "rent", "loan", "bank", "trade",
    "export", "import", "fuel", "grain", "fish", "forest", "storm", "flood", "drought",
    "heat", "museum", "library", "church", "team", "match", "season",
)  # fmt: skip


def shared(a: str, b: str) -> set[int]:
    return set(similarity_keys(a)) & set(similarity_keys(b))


def test_identical_texts_share_every_key():
    keys = similarity_keys(SENTENCE)
    assert len(keys) == len(set(keys)) == BANDS
    assert similarity_keys(SENTENCE) == keys
    assert jaccard(SENTENCE, SENTENCE) == 1.0


def test_typography_case_and_punctuation_do_not_matter():
    plain = 'The mayor said "crime didn\'t rise" - it fell 12% to 1,200 cases in 2025.'
    typographic = (
        "THE MAYOR SAID \u201ccrime didn\u2019t rise\u201d \u2014 it fell 12 percent to 1200 "
        "cases in 2025"
    )
    assert similarity_keys(typographic) == similarity_keys(plain)
    assert jaccard(plain, typographic) == 1.0


def test_one_word_edit_shares_a_key_and_most_bigrams():
    assert shared(SENTENCE, EDITED)
    # 19 bigrams each; the edit replaces the 2 around "Monday": 17 shared of 21 in all.
    assert jaccard(SENTENCE, EDITED) == pytest.approx(17 / 21)


def test_unrelated_sentences_share_no_key():
    assert not shared(SENTENCE, UNRELATED)
    assert jaccard(SENTENCE, UNRELATED) == 0.0


@pytest.mark.parametrize("text", ["", "Prices rose.", "Thank you, reader!", "  -- ... --  "])
def test_texts_under_four_words_get_no_keys(text):
    assert similarity_keys(text) == []


def test_four_words_are_enough():
    assert len(similarity_keys("Thank you for reading.")) == BANDS


def test_short_texts_are_compared_word_by_word():
    assert jaccard("Prices rose.", "prices rose") == 1.0
    assert jaccard("Prices rose.", "Prices fell.") == pytest.approx(1 / 3)
    assert jaccard("", "Prices rose.") == 0.0


def test_keys_fit_bigint_and_bands_never_collide():
    for text in (SENTENCE, EDITED, UNRELATED):
        keys = similarity_keys(text)
        assert all(0 <= key < 2**63 for key in keys)
        # Band i's key lies in [i * 2**59, (i + 1) * 2**59): bands cannot share a value.
        assert [key >> 59 for key in keys] == list(range(BANDS))


def test_batch_equals_one_by_one():
    texts = [SENTENCE, "", "Prices rose.", EDITED, "Four words right here", UNRELATED, SENTENCE]
    assert similarity_keys_many(texts) == [similarity_keys(text) for text in texts]
    assert similarity_keys_many([]) == []


def test_keys_are_the_same_in_another_process():
    # A different string-hash salt must not matter: nothing uses Python's hash().
    code = (
        "import json, sys; from workers.extraction.similarity import similarity_keys; "
        "print(json.dumps([similarity_keys(t) for t in json.load(sys.stdin)]))"
    )
    texts = [SENTENCE, EDITED, UNRELATED]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=env,
    ).stdout
    assert json.loads(out) == [similarity_keys(text) for text in texts]


def _sentence(rng: random.Random) -> list[str]:
    return rng.sample(VOCABULARY, 20)


def test_candidate_rates_follow_the_banding_curve():
    """Near copies (s ~0.81) are candidates ~99.8% of the time; unrelated text ~never."""
    rng = random.Random(7)
    near = unrelated = 0
    trials = 300
    for _ in range(trials):
        words = _sentence(rng)
        edited = list(words)
        edited[rng.randrange(1, 19)] = "zebra"
        near += bool(shared(" ".join(words), " ".join(edited)))
        unrelated += bool(shared(" ".join(words), " ".join(_sentence(rng))))
    assert near >= trials - 6
    assert unrelated <= 3
