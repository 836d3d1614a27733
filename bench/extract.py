"""Extraction benchmark: the whole engine's words/s beside the bare sentence encoder.

    python -m bench.extract [--words 200000]

The corpus is >= --words words of article text: the seed articles in ../shared (when
present), the project's examples/, and generated news-like articles (bench.ingest's
generator), all in one process on one encoder thread. The engine extracts each article; the
baseline is the encoder's forward pass alone over the very texts the engine encodes (every
candidate claim of the article but its clauses and reported spans, whose vectors are pooled
from their sentence's pass), one encode() call per article, which bounds what the engine can
reach. Best of --repeat runs each, by wall clock, with the process's CPU time beside it (the
machine may be shared: CPU time is what one core would take). It also prints where the
engine's time goes, stage by stage, and the resident memory of a fresh process holding the
worker's code and models.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.ingest import make_article

REPO = Path(__file__).resolve().parent.parent
SHARED_ARTICLES = REPO.parent / "shared" / "data" / "articles"
TARGET_WORDS_PER_S = 4_000
TARGET_RATIO = 0.8
TARGET_RSS_MB = 400
# Claims whose vectors the engine pools from their sentence's forward pass: not encoded.
POOLED_KINDS = frozenset({"clause", "reported"})

# Run in a fresh interpreter: what a worker process holds once it has extracted an article.
RSS_PROBE = """
import json, sys
import workers.tasks
from workers.extraction.engine import default_engine
engine = default_engine()
engine.extract(sys.stdin.read())
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({k: int(status[k].split()[0]) for k in ("VmRSS", "VmHWM")}))
"""


def corpus(min_words: int) -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SHARED_ARTICLES.glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").glob("*.txt"))]
    index = 0
    while sum(len(t.split()) for t in texts) < min_words:
        texts.append(make_article("bench-extract", index)["body"])
        index += 1
    return texts


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """The least wall-clock and the least CPU seconds of `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def stage_timings(texts: Sequence[str]) -> dict[str, float]:
    """Seconds per stage of the engine over the corpus (one pass, same work as extract)."""
    from workers.extraction.claimtypes import classify_types
    from workers.extraction.compound import split_compound
    from workers.extraction.dates import find_dates
    from workers.extraction.engine import default_engine
    from workers.extraction.entities import find_entities
    from workers.extraction.language import detect_language
    from workers.extraction.quantities import find_quantities
    from workers.extraction.segment import split_sentences
    from workers.extraction.speakers import attribute_speakers

    engine = default_engine()
    model, encoder = engine.model, engine.encoder
    spent: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = fn()
        spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
        return result

    for text in texts:
        timed("language", lambda: detect_language(text))  # noqa: B023 (called at once)
        segments = timed("segment", lambda: split_sentences(text))  # noqa: B023
        timed("speakers", lambda: attribute_speakers(text, segments))  # noqa: B023
        sentences = [s.text for s in segments]  # type: ignore[attr-defined]
        timed("compound", lambda: [split_compound(s) for s in sentences])  # noqa: B023
        found = timed("quantities", lambda: [find_quantities(s) for s in sentences])  # noqa: B023
        timed("dates", lambda: [find_dates(s) for s in sentences])  # noqa: B023
        timed("entities", lambda: [find_entities(s) for s in sentences])  # noqa: B023
        pairs = zip(sentences, found, strict=True)  # type: ignore[call-overload]
        timed("types", lambda: [classify_types(s, quantities=q) for s, q in pairs])  # noqa: B023
        vectors = timed("encode", lambda: encoder.encode(sentences))  # noqa: B023
        timed("score", lambda: model.score(sentences, embeddings=vectors))  # noqa: B023
    return spent


def worker_rss(sample: str) -> dict[str, int]:
    probe = subprocess.run(
        [sys.executable, "-c", RSS_PROBE],
        input=sample,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(probe.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)

    from workers.extraction.engine import default_engine

    print("building the corpus ...", file=sys.stderr)
    texts = corpus(args.words)
    words = sum(len(t.split()) for t in texts)
    engine = default_engine()
    engine.extract(texts[0])  # load and warm the models outside the timing
    encoded = [
        [claim["text"] for claim in engine.extract(t) if claim["kind"] not in POOLED_KINDS]
        for t in texts
    ]

    print("timing the bare encoder ...", file=sys.stderr)
    baseline, baseline_cpu = best_of(
        args.repeat, lambda: [engine.encoder.encode(c) for c in encoded]
    )
    print("timing the engine ...", file=sys.stderr)
    claims = 0

    def run_engine() -> None:
        nonlocal claims
        claims = sum(len(engine.extract(t)) for t in texts)

    full, full_cpu = best_of(args.repeat, run_engine)
    print("timing each stage ...", file=sys.stderr)
    stages = stage_timings(texts)
    rss = worker_rss(max(texts, key=len))

    engine_rate, baseline_rate = words / full, words / baseline
    print(f"extract benchmark: {len(texts)} articles, {words:,} words, best of {args.repeat}")
    texts_encoded = sum(len(c) for c in encoded)
    print(
        f"baseline  bare encoder          {baseline_rate:12,.0f} words/s ({baseline:.2f} s, "
        f"{texts_encoded:,} texts; CPU {words / baseline_cpu:,.0f} words/s)"
    )
    verdict = "ok" if engine_rate >= TARGET_WORDS_PER_S else "BELOW TARGET"
    print(
        f"engine    full extraction       {engine_rate:12,.0f} words/s ({full:.2f} s, "
        f"{claims:,} claims; CPU {words / full_cpu:,.0f} words/s) "
        f"target >= {TARGET_WORDS_PER_S:,}: {verdict}"
    )
    ratio = engine_rate / baseline_rate
    verdict = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
    print(
        f"ratio     engine / encoder      {ratio:12.3f} x (CPU {baseline_cpu / full_cpu:.3f} x) "
        f"target >= {TARGET_RATIO}: {verdict}"
    )
    for name, seconds in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"stage     {name:<20} {words / seconds:12,.0f} words/s ({seconds:.2f} s)")
    rss_mb, peak_mb = rss["VmRSS"] / 1024, rss["VmHWM"] / 1024
    verdict = "ok" if peak_mb <= TARGET_RSS_MB else "OVER TARGET"
    print(
        f"rss       worker with model     {rss_mb:8.0f} MB now, {peak_mb:.0f} MB peak "
        f"(target <= {TARGET_RSS_MB} MB): {verdict}"
    )


if __name__ == "__main__":
    main()
