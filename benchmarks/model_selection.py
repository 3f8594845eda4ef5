"""The n_clusters sweep on the real file's cached embeddings: seconds and the suggestion."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from typing import Any

from benchmarks.harness import REAL_CSV, WORK, kedro_run, save
from tests.support import latest, scratch_project

RESULT = "model_selection"
NEEDS_REAL_CSV = True
TARGET_SECONDS = 120
# What the sweep reads, as a finished run leaves it under data/.
CACHED = (
    "03_primary/clean_titles.csv",
    "04_feature/features.npz",
    "05_model_input/embeddings.npy",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from-run",
        type=Path,
        help="data/ folder of a finished run on the real file to take the cached "
        "titles, features and embeddings from (default: run data_processing and "
        "encoding first, which is not timed)",
    )
    parser.add_argument("--repeats", type=int, default=2)


def run(args: argparse.Namespace) -> None:
    """Time `kedro run --pipelines model_selection` on cached real-file embeddings.

    The caches come from ``--from-run`` or from an untimed `kedro run
    --pipelines data_processing,encoding` in the scratch project. Each repeat
    is a whole `kedro run` (start-up included), with tracking off so that only
    the sweep is timed; the node's own seconds come from run_timings.json.
    """
    root = scratch_project(WORK / "model_selection")
    if args.from_run:
        for name in CACHED:
            target = root / "data" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(args.from_run / name, target)
    else:
        kedro_run(root, REAL_CSV, "--pipelines", "data_processing,encoding")
    os.environ["NETFLIX_DEC_TRACKING"] = "off"
    runs = []
    for _ in range(args.repeats):
        load_before = os.getloadavg()[0]
        result = kedro_run(root, REAL_CSV, "--pipelines", "model_selection")
        sweep = next(
            n for n in result["nodes"] if n["node"].endswith("sweep_n_clusters")
        )
        runs.append(
            {
                "seconds": result["seconds"],
                "cpu_seconds": result["cpu_seconds"],
                "sweep_seconds": sweep["seconds"],
                "peak_rss_mb": result["peak_rss_mb"],
                "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            }
        )
        print(runs[-1], flush=True)
    report = json.loads(
        latest(root / "data/08_reporting/model_selection_report.json").read_text()
    )
    titles = sum(1 for _ in (root / "data" / CACHED[0]).open(encoding="utf-8")) - 1
    save(
        RESULT,
        {
            "titles": titles,
            "runs": runs,
            "suggested_k": report["suggested_k"],
            "basis": report["basis"],
            "preferred_by_each_score": report["preferred_by_each_score"],
            "seeds": report["seeds"],
            "scores": report["scores"],
        },
    )


def section(d: dict[str, Any]) -> list[str]:
    best = min(r["seconds"] for r in d["runs"])
    scores = [
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "stability",
        "genre_nmi",
        "genre_ari",
    ]
    return [
        f"## Choosing n_clusters: the model_selection sweep ({d['machine']['date']})",
        "",
        f"{d['titles']:,} real titles, cached embeddings, {len(d['seeds'])} seeds. "
        f"Whole `kedro run --pipelines model_selection` (start-up included): "
        + ", ".join(
            f"{r['seconds']} s (sweep node {r['sweep_seconds']} s; "
            f"{r.get('cpu_seconds', '?')} CPU seconds; load average "
            f"{r['load_average'][0]}→{r['load_average'][1]} on "
            f"{d['machine']['cores']} cores)"
            for r in d["runs"]
        )
        + f"; target under {TARGET_SECONDS} s: "
        f"{'met' if best < TARGET_SECONDS else 'not met'} (best run). "
        f"Suggested n_clusters: **{d['suggested_k']}** ({d['basis']}); each score "
        f"alone prefers {d['preferred_by_each_score']}.",
        "",
        "| n_clusters | " + " | ".join(scores) + " |",
        "| ---: |" + " ---: |" * len(scores),
        *[
            f"| {row['n_clusters']} | "
            + " | ".join("" if row.get(s) is None else f"{row[s]:.3f}" for s in scores)
            + " |"
            for row in d["scores"]
        ],
        "",
    ]
