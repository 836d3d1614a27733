"""Tests for workers.extraction.encoder: the ONNX sentence encoder and its cache.

The reference embeddings (encoder_reference.json) were made by sentence-transformers on torch
(make_encoder_reference.py, run outside the repository). The shared encoders use the configured
cache (FACTCHECK_MODEL_CACHE, filled by `make install`); the cache tests use their own folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest

from workers.extraction import encoder
from workers.extraction.encoder import EMBEDDING_DIM, EncoderSettings, SentenceEncoder

REPO_ROOT = Path(__file__).resolve().parents[3]
REFERENCE = json.loads(
    (Path(__file__).resolve().parent / "encoder_reference.json").read_text(encoding="utf-8")
)
SENTENCES: list[str] = REFERENCE["sentences"]
EXPECTED = np.array(REFERENCE["embeddings"], dtype=np.float32)
LONG = SENTENCES[-1]


@pytest.fixture(scope="module")
def fp32() -> SentenceEncoder:
    return encoder.load_encoder("fp32")


@pytest.fixture(scope="module")
def int8() -> SentenceEncoder:
    return encoder.load_encoder("int8")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_fp32_graph_matches_sentence_transformers(fp32: SentenceEncoder) -> None:
    found = fp32.encode(SENTENCES)

    assert found.shape == (len(SENTENCES), EMBEDDING_DIM)
    assert found.dtype == np.float32
    assert np.abs(found - EXPECTED).max() < 1e-4
    assert cosines(found, EXPECTED).min() > 0.9999


def test_int8_graph_stays_within_cosine_099_of_the_reference(int8: SentenceEncoder) -> None:
    found = int8.encode(SENTENCES)

    per_sentence = cosines(found, EXPECTED)
    assert per_sentence.min() >= 0.99, dict(zip(SENTENCES, per_sentence.round(4), strict=True))


def test_embeddings_have_unit_length(int8: SentenceEncoder) -> None:
    norms = np.linalg.norm(int8.encode(SENTENCES), axis=1)

    assert np.allclose(norms, 1.0, atol=1e-5)


def test_empty_input_gives_an_empty_matrix() -> None:
    found = encoder.encode([])

    assert found.shape == (0, EMBEDDING_DIM)
    assert found.dtype == np.float32


def test_module_encode_uses_the_int8_encoder(int8: SentenceEncoder) -> None:
    assert np.array_equal(encoder.encode(SENTENCES[:3]), int8.encode(SENTENCES[:3]))
    assert encoder.load_encoder() is int8


def test_long_sentences_are_truncated_at_256_word_pieces(fp32: SentenceEncoder) -> None:
    """The bundled tokenizer.json truncates at 128: the reference was made at 256."""
    assert REFERENCE["untruncated_token_count_of_last"] > 256
    assert [len(ids) for ids in fp32.token_ids(SENTENCES)] == REFERENCE["token_counts"]

    longer = fp32.encode([LONG, LONG + " And a further clause that is cut off."])

    assert np.abs(longer[0] - longer[1]).max() < 1e-6


@pytest.mark.parametrize("precision", encoder.PRECISIONS)
def test_a_sentence_gets_one_vector_whatever_its_batchmates(precision: str) -> None:
    """What makes extract, score, training and the worker agree on a sentence's score: the
    int8 inputs are quantised per token and pooling sums in a fixed order, so neither the
    other rows nor the padded width of a batch reach a sentence's vector, to the last bit."""
    model = encoder.load_encoder(precision)
    alone = np.stack([model.encode([sentence])[0] for sentence in SENTENCES])
    others = [
        "Short.",
        "Prices rose 4% in May.",
        "He said it would be ready by 2027 at the latest.",
    ]

    together = model.encode(SENTENCES, batch_rows=16)
    mixed = model.encode([*others, *SENTENCES[::-1], *others], batch_rows=16)
    two_by_two = model.encode(SENTENCES, batch_rows=2)

    assert np.array_equal(together, alone)
    assert np.array_equal(mixed[len(others) : len(others) + len(SENTENCES)][::-1], alone)
    assert np.array_equal(two_by_two, alone)


def test_a_span_is_pooled_from_its_sentence_pass(int8: SentenceEncoder) -> None:
    sentence = "Rents rose 20% in two years, the mayor said, but wages fell."
    clause = (0, sentence.index(", but"))
    wages = (sentence.index("wages"), len(sentence) - 1)
    whole = (0, len(sentence))

    vectors, (spans,) = int8.encode_with_spans([sentence], [[clause, wages, whole]])

    assert np.array_equal(spans[2], vectors[0])  # every word piece: the sentence's own mean
    assert np.allclose(np.linalg.norm(spans, axis=1), 1.0, atol=1e-5)
    own = int8.encode([sentence[clause[0] : clause[1]], sentence[wages[0] : wages[1]]])
    assert (cosines(spans[:2], own) > 0.7).all()  # near the span encoded alone
    assert cosines(spans[:1], spans[1:2])[0] < cosines(spans[:1], own[:1])[0]
    _, beside = int8.encode_with_spans(["Short.", sentence], [[(0, 5)], [clause, wages, whole]])
    assert np.array_equal(beside[1], spans)


def test_a_span_past_the_256th_word_piece_is_encoded_on_its_own(int8: SentenceEncoder) -> None:
    tail = "And a further clause that is cut off."
    sentence = f"{LONG} {tail}"
    start = sentence.index(tail)

    _, (spans,) = int8.encode_with_spans([sentence], [[(start, len(sentence))]])

    assert np.array_equal(spans[0], int8.encode([tail])[0])


def test_output_follows_input_order_whatever_the_lengths(fp32: SentenceEncoder) -> None:
    forward = fp32.encode(SENTENCES)
    backward = fp32.encode(SENTENCES[::-1])

    assert np.abs(forward - backward[::-1]).max() < 1e-5


def test_many_sentences_span_several_batches(fp32: SentenceEncoder) -> None:
    sentences = [f"Sentence number {i} says that {i * 7} people came." for i in range(40)]
    sentences.append(LONG)

    found = fp32.encode(sentences, batch_rows=16)

    assert found.shape == (41, EMBEDDING_DIM)
    assert np.abs(found[-1] - EXPECTED[-1]).max() < 1e-4
    assert np.abs(found[3] - fp32.encode([sentences[3]])[0]).max() < 1e-5


def test_settings_default_and_override(tmp_path: Path) -> None:
    default = EncoderSettings.from_env({"XDG_CACHE_HOME": str(tmp_path)})
    assert default == EncoderSettings(cache_dir=tmp_path / "factcheck" / "models", threads=1)

    chosen = EncoderSettings.from_env(
        {"FACTCHECK_MODEL_CACHE": str(tmp_path / "m"), "FACTCHECK_ENCODER_THREADS": "2"}
    )
    assert chosen == EncoderSettings(cache_dir=tmp_path / "m", threads=2)

    for wrong in ("0", "two"):
        with pytest.raises(ValueError, match="FACTCHECK_ENCODER_THREADS"):
            EncoderSettings.from_env({"FACTCHECK_ENCODER_THREADS": wrong})


def test_two_threads_give_the_same_embeddings(fp32: SentenceEncoder) -> None:
    two = SentenceEncoder(fp32.path, threads=2)

    assert np.abs(two.encode(SENTENCES) - fp32.encode(SENTENCES)).max() < 1e-5


def test_a_corrupt_cached_graph_is_rebuilt(tmp_path: Path) -> None:
    path = encoder.graph_path("fp32", tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # as a crash mid-copy would leave it

    rebuilt = encoder.graph_path("fp32", tmp_path)

    assert rebuilt == path
    assert path.read_bytes() == whole
    assert np.abs(SentenceEncoder(path).encode(SENTENCES[:2]) - EXPECTED[:2]).max() < 1e-4


def test_a_graph_of_another_key_under_the_name_is_rebuilt(tmp_path: Path) -> None:
    path = encoder.graph_path("fp32", tmp_path)
    stale = onnx.load(str(path))
    onnx.helper.set_model_props(stale, {encoder.CACHE_KEY_PROPERTY: "0" * 16})
    onnx.save(stale, str(path))

    encoder.graph_path("fp32", tmp_path)

    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props[encoder.CACHE_KEY_PROPERTY] == encoder.cache_key(encoder.weights_dir())


def test_a_new_builder_version_builds_a_new_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = encoder.graph_path("fp32", tmp_path)

    monkeypatch.setattr(encoder, "BUILDER_VERSION", encoder.BUILDER_VERSION + 1)
    new = encoder.graph_path("fp32", tmp_path)

    assert new != old
    assert new.is_file()
    assert encoder.cache_key(encoder.weights_dir()) in new.name


def test_concurrent_builders_leave_one_complete_graph(tmp_path: Path) -> None:
    env = {**os.environ, "FACTCHECK_MODEL_CACHE": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "workers.extraction.encoder", "build", "--precision", "fp32"]
    builders = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE) for _ in range(3)]
    printed = {builder.communicate(timeout=240)[0].decode().strip() for builder in builders}

    assert [builder.returncode for builder in builders] == [0, 0, 0]
    assert len(printed) == 1
    graphs = sorted(tmp_path.glob("*.onnx"))
    assert [str(g) for g in graphs] == list(printed)
    assert not list(tmp_path.glob("*.tmp"))
    assert np.abs(SentenceEncoder(graphs[0]).encode(SENTENCES[:1]) - EXPECTED[:1]).max() < 1e-4


NETWORK_OFF = """
import socket

class _NoNetwork(socket.socket):
    def __init__(self, *args, **kwargs):
        raise OSError("network is off in this test")

def _refuse(*args, **kwargs):
    raise OSError("network is off in this test")

socket.socket = _NoNetwork
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""

OFFLINE_RUN = """
import json, socket, sys
try:
    socket.create_connection(("127.0.0.1", 9))
except OSError as error:
    assert "network is off" in str(error), error
else:
    sys.exit("the network was reachable")
from workers.extraction.encoder import encode, load_encoder
found = encode(json.loads(sys.stdin.read()))
print(json.dumps({"shape": list(found.shape), "path": str(load_encoder().path),
                  "first": found[0].tolist()}))
"""


def test_builds_loads_and_encodes_with_the_network_off(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(textwrap.dedent(NETWORK_OFF))
    cache = tmp_path / "cache"  # empty: the graph is built there, offline too
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(REPO_ROOT)]),
        "FACTCHECK_MODEL_CACHE": str(cache),
        "HF_HUB_OFFLINE": "0",  # nothing here may look for a hub, allowed or not
    }
    run = subprocess.run(
        [sys.executable, "-c", OFFLINE_RUN],
        input=json.dumps(SENTENCES[:2]),
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["shape"] == [2, EMBEDDING_DIM]
    assert Path(result["path"]).parent == cache
    assert cosines(np.array([result["first"]]), EXPECTED[:1])[0] >= 0.99
