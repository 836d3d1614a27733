"""Tokenizer and hashed sparse features for check-worthiness, shared by training and inference.

A batch of sentences becomes a :class:`SparseBatch` (row index, feature index, value per
entry) over a fixed hashed feature space of ``2 ** FeatureConfig.hash_bits`` columns.
Hashes come from :func:`zlib.crc32`, so feature indices are the same in every process and
on every machine (Python's ``hash()`` is salted per process and must never be used here).

Per-token work is one regex pass and one dict lookup in a cache of token types; everything
else (n-gram combination, shape and lexicon features, counts) is vectorised with numpy.

Feature groups (each can be switched off in :class:`FeatureConfig` to measure its effect):

* ``words``: lower-cased word unigrams and bigrams, with sentence start/end markers.
* ``shapes``: the token's shape (number, year, percent, money, capitalised name-like word,
  acronym, ...), alone and as bigrams ("CAP CAP" is a name, "NUM %" a quantity).
* ``lexicon``: word classes that pool rare words: attribution verbs (said, claimed,
  according to), hedges and modality (may, might, could, should, will), first and second
  person, comparatives and superlatives, change verbs (rose, fell, doubled), months.
* ``counts``: bucketed sentence length and bucketed counts of numbers and name-like words.
* ``position``: bucketed relative position in the document, when known.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "FeatureConfig",
    "SparseBatch",
    "TokenFeaturizer",
    "tokenize",
]

# Numbers keep their separators and a trailing percent sign (3.5, 1,200, 4.1%); words keep
# inner apostrophes (don't, we've, America's); any other non-space character is one token.
TOKEN_PATTERN = re.compile(r"\d+(?:[.,:]\d+)*%?|[^\W\d_]+(?:['\u2019][^\W\d_]+)*|[^\w\s]")

SHAPE_LOWER = "lower"
SHAPE_CAPITALISED = "cap"
SHAPE_ACRONYM = "acronym"
SHAPE_NUMBER = "num"
SHAPE_YEAR = "year"
SHAPE_PERCENT = "percent"
SHAPE_CURRENCY = "currency"
SHAPE_PUNCTUATION = "punct"
SHAPE_OTHER = "other"

LEXICON: dict[str, list[str]] = {
    "attribution": [
        "said",
        "says",
        "say",
        "saying",
        "told",
        "tells",
        "claimed",
        "claims",
        "claim",
        "stated",
        "states",
        "announced",
        "reported",
        "reports",
        "according",
        "argued",
        "argues",
        "insisted",
        "suggested",
        "suggests",
        "warned",
        "noted",
        "added",
        "explained",
        "wrote",
        "believes",
        "alleged",
        "alleges",
        "denied",
        "confirmed",
    ],
    "hedge": [
        "may",
        "might",
        "could",
        "perhaps",
        "maybe",
        "possibly",
        "probably",
        "likely",
        "unlikely",
        "seems",
    ],
    "modal_future": ["will", "would", "shall", "should", "must", "gonna", "going"],
    "opinion": ["think", "believe", "feel", "hope", "guess", "wish", "want", "love", "like"],
    "first_singular": ["i", "me", "my", "mine", "myself", "i'm", "i've", "i'd", "i'll"],
    "first_plural": ["we", "us", "our", "ours", "ourselves", "we're", "we've", "we'd", "we'll"],
    "second_person": ["you", "your", "yours", "yourself", "you're", "you've", "you'll", "you'd"],
    "quantity_word": [
        "percent",
        "million",
        "millions",
        "billion",
        "billions",
        "trillion",
        "thousand",
        "thousands",
        "hundred",
        "hundreds",
        "dozen",
        "half",
        "twice",
        "double",
        "doubled",
        "tripled",
        "times",
        "per",
        "average",
        "rate",
    ],
    "change": [
        "increased",
        "increase",
        "increases",
        "decreased",
        "decrease",
        "decreases",
        "rose",
        "risen",
        "rise",
        "fell",
        "fallen",
        "drop",
        "dropped",
        "cut",
        "cuts",
        "grew",
        "grown",
        "growth",
        "declined",
        "decline",
        "raised",
        "lowered",
        "more",
        "less",
        "fewer",
        "most",
        "least",
        "highest",
        "lowest",
        "largest",
        "biggest",
        "smallest",
        "record",
    ],
    "month": [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ],
    "greeting": ["thank", "thanks", "welcome", "hello", "congratulations", "applause", "laughter"],
    "negation": [
        "not",
        "no",
        "never",
        "n't",
        "don't",
        "didn't",
        "doesn't",
        "isn't",
        "wasn't",
        "won't",
        "can't",
    ],
    "question_word": ["what", "why", "how", "who", "whom", "whose", "which", "when", "where"],
}

# News text uses typographic quotes and dashes where transcripts use ASCII ones; both must
# give the same features (a right single quotation mark in "that's" is an apostrophe).
TYPOGRAPHIC_EQUIVALENTS = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2014": "-",
        "\u2013": "-",
    }
)

# Receives (row of each entry, 64-bit hash of each entry) for one group of features.
FeatureSink = Callable[[np.ndarray, np.ndarray], None]

START_MARKER = "<s>"
END_MARKER = "</s>"
GROUP_WORD = "w"
GROUP_SHAPE = "s"
GROUP_LEXICON = "l"
# Golden-ratio multiplier: spreads the first hash of a pair over all bits before mixing.
PAIR_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
# A token-type cache larger than this is dropped and rebuilt, so a long-running worker
# does not grow without bound on an endless stream of rare words.
MAX_CACHED_TOKEN_TYPES = 500_000

LENGTH_BUCKET_EDGES = np.array([3, 5, 8, 12, 18, 25, 35, 50])
COUNT_BUCKET_EDGES = np.array([1, 2, 3, 5])
POSITION_BUCKETS = 5


def tokenize(text: str) -> list[str]:
    """Split `text` into word, number and punctuation tokens, keeping their case."""
    return TOKEN_PATTERN.findall(text)


def stable_hash(text: str) -> int:
    """A 32-bit hash of `text` that is identical in every process (CRC-32 of its UTF-8)."""
    return zlib.crc32(text.encode("utf-8"))


@dataclass(frozen=True)
class FeatureConfig:
    """Which feature groups are on and the size of the hashed space; stored with the model."""

    hash_bits: int = 20
    words: bool = True
    word_bigrams: bool = True
    shapes: bool = True
    lexicon: bool = True
    counts: bool = True
    position: bool = False
    word_trigrams: bool = True
    prefixes: bool = True
    prefix_length: int = 5
    char_ngrams: bool = False
    char_ngram_sizes: tuple[int, ...] = (3, 4)

    @property
    def n_features(self) -> int:
        """Number of columns of the hashed feature space."""
        return 1 << self.hash_bits

    def to_json(self) -> str:
        """The configuration as a JSON string (to store inside the model file)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FeatureConfig:
        """Rebuild a configuration written by :meth:`to_json`."""
        fields = json.loads(text)
        fields["char_ngram_sizes"] = tuple(fields.get("char_ngram_sizes", ()))
        return cls(**fields)


@dataclass(frozen=True)
class SparseBatch:
    """Features of a batch of sentences in coordinate form: entry k is (rows[k], cols[k])."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    n_rows: int
    n_cols: int
    # Number of word tokens per sentence (punctuation excluded), for speed reporting.
    word_counts: np.ndarray

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """Row-wise dot product with a dense weight vector, without scipy."""
        return np.bincount(
            self.rows, weights=weights[self.cols] * self.values, minlength=self.n_rows
        )


def word_shape(text: str) -> str:
    """The coarse shape of a text: number kinds, capitalisation, punctuation."""
    first = text[0]
    if first.isdigit():
        if text.endswith("%"):
            return SHAPE_PERCENT
        if len(text) == 4 and text.isdigit() and text[:2] in ("19", "20"):
            return SHAPE_YEAR
        return SHAPE_NUMBER
    if first.isalpha():
        if text.isupper() and len(text) > 1:
            return SHAPE_ACRONYM
        if first.isupper():
            return SHAPE_CAPITALISED
        return SHAPE_LOWER
    if text in "$€£¥":
        return SHAPE_CURRENCY
    if text == "%":
        return SHAPE_PERCENT
    if first.isspace() or first.isalnum():
        return SHAPE_OTHER
    return SHAPE_PUNCTUATION


def _build_lexicon_index() -> dict[str, list[str]]:
    classes_by_word: dict[str, list[str]] = {}
    for class_name, words in LEXICON.items():
        for word in words:
            classes_by_word.setdefault(word, []).append(class_name)
    return classes_by_word


LEXICON_CLASSES_BY_WORD = _build_lexicon_index()
SHAPE_NAMES = (
    SHAPE_LOWER,
    SHAPE_CAPITALISED,
    SHAPE_ACRONYM,
    SHAPE_NUMBER,
    SHAPE_YEAR,
    SHAPE_PERCENT,
    SHAPE_CURRENCY,
    SHAPE_PUNCTUATION,
    SHAPE_OTHER,
)
SHAPE_INDEX = {name: index for index, name in enumerate(SHAPE_NAMES)}
# Shapes counted as "numbers" and as "names" for the count features.
NUMERIC_SHAPES = np.array([SHAPE_INDEX[s] for s in (SHAPE_NUMBER, SHAPE_YEAR, SHAPE_PERCENT)])
NAME_SHAPES = np.array([SHAPE_INDEX[s] for s in (SHAPE_CAPITALISED, SHAPE_ACRONYM)])
WORDLIKE_SHAPES = np.array([i for s, i in SHAPE_INDEX.items() if s != SHAPE_PUNCTUATION])


def _shape_table(shapes: np.ndarray) -> np.ndarray:
    """A boolean per shape index: ``table[shape]`` is ``np.isin(shape, shapes)``, but cheaper."""
    table = np.zeros(len(SHAPE_NAMES), dtype=bool)
    table[shapes] = True
    return table


IS_NUMERIC_SHAPE = _shape_table(NUMERIC_SHAPES)
IS_NAME_SHAPE = _shape_table(NAME_SHAPES)
IS_WORDLIKE_SHAPE = _shape_table(WORDLIKE_SHAPES)
LEXICON_NAMES = tuple(LEXICON)
NO_LEXICON_CLASS = -1


class GrowingColumn:
    """A numpy array appended to from Python; appended values wait in a list until read.

    Reading costs only the new values (the array grows by doubling), so a featurizer whose
    cache holds many token types still handles a small batch quickly.
    """

    def __init__(self, dtype: type) -> None:
        self._array: np.ndarray = np.empty(1024, dtype=dtype)
        self._size = 0
        self._pending: list[int] = []

    def __len__(self) -> int:
        return self._size + len(self._pending)

    def append(self, value: int) -> None:
        self._pending.append(value)

    def extend(self, values: list[int]) -> None:
        self._pending.extend(values)

    def values(self) -> np.ndarray:
        """All values appended so far, as a numpy array view."""
        if self._pending:
            needed = self._size + len(self._pending)
            if needed > len(self._array):
                grown = np.empty(max(needed, 2 * len(self._array)), dtype=self._array.dtype)
                grown[: self._size] = self._array[: self._size]
                self._array = grown
            self._array[self._size : needed] = self._pending
            self._size = needed
            self._pending = []
        return self._array[: self._size]


class TokenFeaturizer:
    """Turns batches of sentences into :class:`SparseBatch` features for one configuration."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        self._mask = np.uint64(config.n_features - 1)
        self._shape_hashes = np.array(
            [stable_hash(f"{GROUP_SHAPE}={name}") for name in SHAPE_NAMES], dtype=np.uint64
        )
        self._lexicon_hashes = np.array(
            [stable_hash(f"{GROUP_LEXICON}={name}") for name in LEXICON_NAMES], dtype=np.uint64
        )
        self._start_hash = np.uint64(stable_hash(f"{GROUP_WORD}={START_MARKER}"))
        self._end_hash = np.uint64(stable_hash(f"{GROUP_WORD}={END_MARKER}"))
        self._start_shape_hash = np.uint64(stable_hash(f"{GROUP_SHAPE}={START_MARKER}"))
        self._end_shape_hash = np.uint64(stable_hash(f"{GROUP_SHAPE}={END_MARKER}"))
        self._reset_cache()

    def _reset_cache(self) -> None:
        self._type_index: dict[str, int] = {}
        self._type_word_hash = GrowingColumn(np.uint64)
        self._type_prefix_hash = GrowingColumn(np.uint64)
        self._type_shape = GrowingColumn(np.int64)
        self._type_lexicon = GrowingColumn(np.int64)
        self._type_extra_lexicon: list[tuple[int, int]] = []
        self._type_char_start = GrowingColumn(np.int64)
        self._type_char_count = GrowingColumn(np.int64)
        self._char_hash_pool = GrowingColumn(np.uint64)

    def _add_type(self, token: str) -> int:
        """Register a new token type in the cache and return its index."""
        index = len(self._type_word_hash)
        lowered = token.lower().translate(TYPOGRAPHIC_EQUIVALENTS)
        self._type_index[token] = index
        word_hash = stable_hash(f"{GROUP_WORD}={lowered}")
        self._type_word_hash.append(word_hash)
        self._type_prefix_hash.append(
            stable_hash(f"p={lowered[: self.config.prefix_length]}")
            if len(lowered) > self.config.prefix_length
            else word_hash
        )
        self._type_shape.append(SHAPE_INDEX[word_shape(token)])
        classes = [LEXICON_NAMES.index(c) for c in LEXICON_CLASSES_BY_WORD.get(lowered, ())]
        self._type_lexicon.append(classes[0] if classes else NO_LEXICON_CLASS)
        self._type_extra_lexicon.extend((index, c) for c in classes[1:])
        char_hashes = self._char_ngram_hashes(lowered) if self.config.char_ngrams else []
        self._type_char_start.append(len(self._char_hash_pool))
        self._type_char_count.append(len(char_hashes))
        self._char_hash_pool.extend(char_hashes)
        return index

    def _char_ngram_hashes(self, lowered: str) -> list[int]:
        """Hashes of the character n-grams of a word, with ^ and $ marking its edges."""
        if not lowered[0].isalpha():
            return []
        marked = f"^{lowered}$"
        return [
            stable_hash(f"c{size}={marked[i : i + size]}")
            for size in self.config.char_ngram_sizes
            for i in range(len(marked) - size + 1)
        ]

    def _token_type_indices(self, tokens: list[str]) -> np.ndarray:
        if len(self._type_index) > MAX_CACHED_TOKEN_TYPES:
            self._reset_cache()
        type_index = self._type_index
        # Known tokens are looked up at C speed; only new ones go through Python.
        indices = list(map(type_index.get, tokens))
        if None in indices:
            add_type = self._add_type
            for position, token in enumerate(tokens):
                if indices[position] is None:
                    index = type_index.get(token)
                    indices[position] = add_type(token) if index is None else index
        return np.array(indices, dtype=np.int64)

    def transform(
        self, sentences: Sequence[str], positions: Sequence[float | None] | None = None
    ) -> SparseBatch:
        """Features of `sentences`; `positions` are relative positions 0..1 (None: unknown)."""
        config = self.config
        n_rows = len(sentences)
        tokens: list[str] = []
        lengths = np.empty(n_rows, dtype=np.int64)
        findall = TOKEN_PATTERN.findall
        for row, sentence in enumerate(sentences):
            sentence_tokens = findall(sentence)
            tokens.extend(sentence_tokens)
            lengths[row] = len(sentence_tokens)
        types = self._token_type_indices(tokens)
        token_rows = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        nonempty = lengths > 0
        is_first = np.zeros(len(tokens), dtype=bool)
        is_first[starts[nonempty]] = True
        is_last = np.zeros(len(tokens), dtype=bool)
        is_last[ends[nonempty] - 1] = True

        word_hash = self._type_word_hash.values()[types]
        shape = self._type_shape.values()[types]
        # A capital letter says "name" only when it is not just the sentence's first word.
        shape[is_first & (shape == SHAPE_INDEX[SHAPE_CAPITALISED])] = SHAPE_INDEX[SHAPE_LOWER]
        wordlike_rows = token_rows[IS_WORDLIKE_SHAPE[shape]]
        word_counts = np.bincount(wordlike_rows, minlength=n_rows).astype(np.int64)

        row_parts: list[np.ndarray] = []
        hash_parts: list[np.ndarray] = []

        def add(rows: np.ndarray, hashes: np.ndarray) -> None:
            row_parts.append(rows)
            hash_parts.append(hashes.astype(np.uint64, copy=False))

        if config.words:
            add(token_rows, word_hash)
            if config.word_bigrams:
                self._add_pairs(add, token_rows, word_hash, is_first, is_last, word=True)
            if config.word_trigrams:
                self._add_triples(add, token_rows, word_hash, is_first)
        if config.char_ngrams:
            self._add_char_ngrams(add, token_rows, types)
        if config.prefixes:
            add(token_rows, self._type_prefix_hash.values()[types])
        if config.shapes:
            shape_hash = self._shape_hashes[shape]
            informative = shape != SHAPE_INDEX[SHAPE_LOWER]
            add(token_rows[informative], shape_hash[informative])
            self._add_pairs(add, token_rows, shape_hash, is_first, is_last, word=False)
        if config.lexicon:
            lexicon = self._type_lexicon.values()[types]
            has_class = lexicon != NO_LEXICON_CLASS
            add(token_rows[has_class], self._lexicon_hashes[lexicon[has_class]])
            if self._type_extra_lexicon:
                extra = np.asarray(self._type_extra_lexicon, dtype=np.int64)
                token_positions, extra_positions = np.nonzero(types[:, None] == extra[None, :, 0])
                add(
                    token_rows[token_positions],
                    self._lexicon_hashes[extra[extra_positions, 1]],
                )
        if config.counts:
            self._add_counts(add, n_rows, token_rows, shape, word_counts)
        if config.position and positions is not None:
            self._add_positions(add, positions)

        rows = np.concatenate(row_parts) if row_parts else np.empty(0, dtype=np.int64)
        hashes = np.concatenate(hash_parts) if hash_parts else np.empty(0, dtype=np.uint64)
        cols = (hashes & self._mask).astype(np.int64)
        # Repeated features of one row are summed, then damped: presence matters more than
        # repetition, and long sentences should not win by sheer length.
        keys = rows * config.n_features + cols
        unique_keys, counts = np.unique(keys, return_counts=True)
        rows = unique_keys // config.n_features
        cols = unique_keys % config.n_features
        entries_per_row = np.bincount(rows, minlength=n_rows)
        values = np.sqrt(counts) / np.sqrt(np.maximum(entries_per_row, 1))[rows]
        return SparseBatch(
            rows=rows,
            cols=cols,
            values=values,
            n_rows=n_rows,
            n_cols=config.n_features,
            word_counts=word_counts,
        )

    def _add_pairs(
        self,
        add: FeatureSink,
        token_rows: np.ndarray,
        hashes: np.ndarray,
        is_first: np.ndarray,
        is_last: np.ndarray,
        *,
        word: bool,
    ) -> None:
        """Add bigrams of consecutive tokens, with start and end markers at the edges."""
        start = self._start_hash if word else self._start_shape_hash
        end = self._end_hash if word else self._end_shape_hash
        previous = np.empty_like(hashes)
        previous[1:] = hashes[:-1]
        previous[is_first] = start
        salt = np.uint64(1 if word else 2)
        with np.errstate(over="ignore"):
            add(token_rows, (previous * PAIR_MULTIPLIER) ^ hashes ^ salt)
            add(token_rows[is_last], (hashes[is_last] * PAIR_MULTIPLIER) ^ end ^ salt)

    def _add_triples(
        self, add: FeatureSink, token_rows: np.ndarray, hashes: np.ndarray, is_first: np.ndarray
    ) -> None:
        """Add trigrams of consecutive tokens of one sentence (start marker at the edge)."""
        previous = np.empty_like(hashes)
        previous[1:] = hashes[:-1]
        previous[is_first] = self._start_hash
        before_previous = np.empty_like(hashes)
        before_previous[1:] = previous[:-1]
        is_second = np.zeros_like(is_first)
        is_second[1:] = is_first[:-1]
        before_previous[is_first | is_second] = self._start_hash
        with np.errstate(over="ignore"):
            pair = (before_previous * PAIR_MULTIPLIER) ^ previous
            add(token_rows, (pair * PAIR_MULTIPLIER) ^ hashes ^ np.uint64(3))

    def _add_char_ngrams(self, add: FeatureSink, token_rows: np.ndarray, types: np.ndarray) -> None:
        """Add the cached character n-grams of every token (a variable-length gather)."""
        counts = self._type_char_count.values()[types]
        total = int(counts.sum())
        if total == 0:
            return
        starts = self._type_char_start.values()[types]
        offsets = np.cumsum(counts) - counts
        pool_index = np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)
        add(
            np.repeat(token_rows, counts),
            self._char_hash_pool.values()[pool_index],
        )

    def _add_counts(
        self,
        add: FeatureSink,
        n_rows: int,
        token_rows: np.ndarray,
        shape: np.ndarray,
        word_counts: np.ndarray,
    ) -> None:
        """Add bucketed sentence length and counts of numbers and of name-like words."""
        all_rows = np.arange(n_rows, dtype=np.int64)
        numbers = np.bincount(token_rows[IS_NUMERIC_SHAPE[shape]], minlength=n_rows)
        names = np.bincount(token_rows[IS_NAME_SHAPE[shape]], minlength=n_rows)
        for name, values, edges in (
            ("length", word_counts, LENGTH_BUCKET_EDGES),
            ("numbers", numbers, COUNT_BUCKET_EDGES),
            ("names", names, COUNT_BUCKET_EDGES),
        ):
            buckets = np.searchsorted(edges, values, side="right")
            bucket_hashes = np.array(
                [stable_hash(f"c={name}:{b}") for b in range(len(edges) + 1)], dtype=np.uint64
            )
            add(all_rows, bucket_hashes[buckets])

    def _add_positions(self, add: FeatureSink, positions: Sequence[float | None]) -> None:
        """Add one bucket feature per sentence whose relative position is known."""
        known_rows = [row for row, p in enumerate(positions) if p is not None]
        if not known_rows:
            return
        known = np.clip(
            np.array([positions[row] for row in known_rows], dtype=np.float64), 0.0, 1.0
        )
        buckets = np.minimum((known * POSITION_BUCKETS).astype(np.int64), POSITION_BUCKETS - 1)
        bucket_hashes = np.array(
            [stable_hash(f"pos={b}") for b in range(POSITION_BUCKETS)], dtype=np.uint64
        )
        add(np.array(known_rows, dtype=np.int64), bucket_hashes[buckets])
