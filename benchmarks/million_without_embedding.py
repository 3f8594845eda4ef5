"""The default pipeline at a million titles, every step but MiniLM's forward pass.

On a CPU without native bfloat16 MiniLM alone takes about two hours at a
million titles, which hides what the rest of the pipeline costs. This script
puts MiniLM's rows in the project's feature cache first (for each distinct
description, one row of a real features file drawn at random, plus noise,
renormalised), then measures a whole default ``kedro run`` that finds every
row cached. The clusters then say nothing about the planted genres (NMI about
0): the time and the peak memory are what it measures. Not a section of
results.md; the figures are in results/notes/million.md.

    python benchmarks/million_without_embedding.py \\
        --features <project>/data/04_feature/features.npz --titles 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import WORK, kedro_command, kedro_env, kedro_run, measure  # noqa: E402
from tests.support import scratch_project  # noqa: E402


class _Filler:
    """A row cache that has every row: noisy real rows, kept for the real cache."""

    def __init__(self, real: np.ndarray, seed: int) -> None:
        self._real, self._rng = real, np.random.default_rng(seed)

    def lookup(self, keys, expected=None):
        from netflix_dec.encoders.cache import CacheLookup

        picked = self._rng.integers(0, len(self._real), len(keys))
        rows = self._real[picked].astype(np.float32)
        rows += self._rng.normal(0, 0.01, rows.shape).astype(np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        self.keys, self.rows = list(keys), rows
        return CacheLookup(np.ones(len(keys), bool), rows, [])

    def store(self, keys, rows):
        return None


def _fill_cache(root: Path, real: np.ndarray, seed: int) -> int:
    """Cache a row for every clean title's description; return how many."""
    from netflix_dec.encoders import from_settings
    from netflix_dec.storage.caches import FeatureCache

    titles = pd.read_csv(root / "data/03_primary/clean_titles.csv")
    saved = sorted((root / "data/06_models/text_encoder.json").iterdir())[-1]
    encoder = from_settings(json.loads((saved / "text_encoder.json").read_text()))
    filler = _Filler(real, seed)
    encoder.encode(titles["description"].fillna("").astype(str).tolist(), cache=filler)
    FeatureCache(path=str(root / "data/04_feature/cache")).store(
        filler.keys, filler.rows
    )
    return len(filler.keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--features", type=Path, required=True, help="a real run's features.npz"
    )
    parser.add_argument("--titles", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from netflix_dec.sample import write_catalogue

    work = WORK / "million"
    csv = work / f"synthetic_{args.titles}.csv"
    if not csv.exists():
        write_catalogue(csv, n_titles=args.titles, seed=args.titles)
    root = scratch_project(work / "project")
    to_encoder = kedro_command("run", "--to-nodes", "encoding.fit_text_encoder")
    measure(to_encoder, cwd=root, env=kedro_env(csv))
    with np.load(args.features) as archive:
        real = archive[archive.files[0]]
    cached = _fill_cache(root, real, args.seed)
    result = kedro_run(root, csv)
    result.pop("output")
    result["cached_rows"] = cached
    (work / "result.json").write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps({k: v for k, v in result.items() if k != "nodes"}, indent=1))


if __name__ == "__main__":
    main()
