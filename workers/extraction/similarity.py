"""Near-duplicate claims: MinHash of word shingles, banded for locality-sensitive lookup.

A claim's text is normalised (NFKC, case-folded, typographic quotes and dashes mapped to
ASCII, apostrophes and other punctuation dropped, "1,000" read as "1000" and "%" as
"percent") and cut into word bigrams. Their Jaccard similarity is what "nearly the same
claim" means; `jaccard` computes it exactly.

To find candidates without comparing every pair, `similarity_keys` turns the bigrams into
BANDS x ROWS MinHash values and hashes each band of ROWS values into one key. Two texts share
a band's key only if all ROWS values of that band agree, which for Jaccard similarity `s`
happens with probability s**ROWS; they share at least one key with probability
P(s) = 1 - (1 - s**ROWS)**BANDS. With 8 bands of 3 rows (24 MinHash values):

    s      0.3    0.5    0.7    0.9
    P(s)   0.197  0.656  0.965  1.000 (0.99997)

The curve is steepest near (1/BANDS)**(1/ROWS) = 0.5, where the claim detail's default
threshold sits: one word changed in a twenty-word sentence (s = 17/21 = 0.81) leaves a
candidate 99.8% of the time, two words (s = 15/23 = 0.65) 92%; a sentence sharing only a
stock phrase (s ~0.3) is a candidate one time in five, unrelated text practically never.
More rows would miss more near copies; more bands would cost more keys per claim and more
candidates to re-rank. Pairs right at s = 0.5 are found two times in three: the threshold is
a floor for what is shown, not a recall promise.

Everything is deterministic across processes and machines: words are hashed with zlib.crc32
(never Python's salted hash()) and each bigram from its two words' hashes, and the hash
functions' constants are derived from fixed strings with BLAKE2b, not drawn from a random
generator whose stream could change. Changing any of this changes every key: stored keys
would then need recomputing, as migration 0007 first computed them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable
from itertools import pairwise

import numpy as np

__all__ = [
    "BANDS",
    "MIN_WORDS",
    "ROWS",
    "jaccard",
    "jaccard_to",
    "similarity_keys",
    "similarity_keys_many",
]

BANDS = 8
ROWS = 3
# Fewer words than this carry too little to call two texts "the same claim": no keys, and
# `jaccard` compares such texts word by word instead of by bigrams.
MIN_WORDS = 4
# Keys are non-negative int64 (Postgres bigint): the band index sits in bits 59..61, so keys
# of different bands can never be equal; the band's hash fills the 59 bits below it.
_BAND_SHIFT = 59
_HASH_MASK = (1 << _BAND_SHIFT) - 1

_TYPOGRAPHIC = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    }
)
# A run of word characters (letters, digits, underscores), with any decimal part ("4.7");
# anything else (punctuation, symbols, spaces) only separates words.
_WORD = re.compile(r"\w+(?:\.\d+)*")


def _constants(label: str) -> np.ndarray:
    values = [
        int.from_bytes(hashlib.blake2b(f"{label}-{i}".encode(), digest_size=8).digest(), "big")
        for i in range(BANDS * ROWS)
    ]
    return np.array(values, dtype=np.uint64)


# h_i(x) = ((a_i * x + b_i) mod 2**64) >> 32 with odd a_i: multiply-shift hashing of the
# 32-bit shingle hashes, one function per MinHash value.
_MULTIPLIERS = _constants("factcheck-minhash-multiplier") | np.uint64(1)
_INCREMENTS = _constants("factcheck-minhash-increment")


def words(text: str) -> list[str]:
    """The normalised words of `text`, as similarity sees them."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():  # translate() is slow; most text needs none of it
        text = text.translate(_TYPOGRAPHIC)
    # Apostrophes and commas join what they separate ("don't" is "dont", "1,000" is "1000"):
    # in prose a comma between words is followed by a space anyway.
    return _WORD.findall(text.replace("'", "").replace(",", "").replace("%", " percent "))


def _shingles(tokens: list[str], size: int) -> set[tuple[str, ...]]:
    """The set of `tokens`' bigrams (size 2) or words (size 1), as tuples."""
    if size == 1:
        return {(word,) for word in tokens}
    return set(pairwise(tokens))


def jaccard(a_text: str, b_text: str) -> float:
    """Jaccard similarity of two texts' word bigrams (of their words, if either is short)."""
    return jaccard_to(a_text, [b_text])[0]


def jaccard_to(text: str, others: Iterable[str]) -> list[float]:
    """`jaccard(text, other)` for each of `others`, normalising `text` only once."""
    own = words(text)
    own_shingles = {size: _shingles(own, size) for size in (1, 2)}
    found = []
    for other in others:
        other_words = words(other)
        size = 2 if min(len(own), len(other_words)) >= MIN_WORDS else 1
        a, b = own_shingles[size], _shingles(other_words, size)
        found.append(len(a & b) / len(a | b) if a and b else 0.0)
    return found


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, element-wise (uint64 arithmetic wraps modulo 2**64)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def similarity_keys_many(texts: Iterable[str]) -> list[list[int]]:
    """`similarity_keys` of each text, hashed in one vectorised pass.

    Memory grows with the total number of words (24 x 8 bytes each): pass thousands of texts
    at a time, not millions.
    """
    word_hashes: list[list[int]] = []
    for text in texts:
        tokens = words(text)
        word_hashes.append(
            [zlib.crc32(word.encode()) for word in tokens] if len(tokens) >= MIN_WORDS else []
        )
    found: list[list[int]] = [[] for _ in word_hashes]
    keyed = [i for i, hashes in enumerate(word_hashes) if hashes]
    if not keyed:
        return found
    lengths = np.array([len(word_hashes[i]) for i in keyed])
    flat = np.fromiter(
        (h for i in keyed for h in word_hashes[i]), dtype=np.uint64, count=int(lengths.sum())
    )
    # Bigram i of the batch joins words i and i+1; those straddling two texts are dropped.
    # Each bigram is hashed to 32 bits from its two words' crc32 (a repeated bigram hashes
    # alike, and MinHash of a multiset is MinHash of its set).
    ends = np.cumsum(lengths)
    within = np.ones(len(flat) - 1, dtype=bool)
    within[ends[:-1] - 1] = False
    bigrams = _mix((flat[:-1] << np.uint64(32)) | flat[1:])[within] >> np.uint64(32)
    hashed = np.multiply(bigrams[:, None], _MULTIPLIERS)
    hashed += _INCREMENTS
    hashed >>= np.uint64(32)
    starts = np.concatenate(([0], np.cumsum(lengths - 1)[:-1]))
    signatures = np.minimum.reduceat(hashed, starts, axis=0).reshape(len(keyed), BANDS, ROWS)
    band = np.arange(BANDS, dtype=np.uint64)
    mixed = _mix(band + np.uint64(0x9E3779B97F4A7C15))
    for row in range(ROWS):
        mixed = _mix(mixed ^ signatures[:, :, row])
    keys = (band << np.uint64(_BAND_SHIFT)) | (mixed & np.uint64(_HASH_MASK))
    for i, row_keys in zip(keyed, keys.astype(np.int64).tolist(), strict=True):
        found[i] = row_keys
    return found


def similarity_keys(text: str) -> list[int]:
    """LSH band keys of `text` (BANDS of them), or [] when it has fewer than MIN_WORDS words.

    Two texts sharing a key are candidates for being the same claim; `jaccard` decides.
    """
    return similarity_keys_many([text])[0]
