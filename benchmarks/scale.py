"""Scale: the full default pipeline on synthetic catalogues of growing size."""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks.harness import (
    PIPELINES,
    WORK,
    kedro_run,
    metrics,
    save,
    scratch_project,
    strip,
    yes,
)

RESULT = "scale"
NEEDS_REAL_CSV = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--params", default="", help="extra kedro run --params")


def run(args: argparse.Namespace) -> None:
    """The full default pipeline on synthetic catalogues of the given sizes."""
    from netflix_dec.sample import write_catalogue

    sizes = [int(s) for s in args.sizes.split(",")]
    extra = ["--params", args.params] if args.params else []
    runs = []
    for size in sizes:
        csv = WORK / f"synthetic_{size}.csv"
        if not csv.exists():
            write_catalogue(csv, n_titles=size, seed=size)
        print(f"[scale] {size} titles", flush=True)
        root = scratch_project(WORK / "project")
        result = strip(kedro_run(root, csv, *extra))
        clean = (root / "data/03_primary/clean_titles.csv").read_text().count("\n") - 1
        runs.append(
            {
                "titles": size,
                "clean_titles": clean,
                "params": extra,
                "nmi_planted": metrics(root)["final"]["nmi"],
                **result,
            }
        )
    rates = [r["seconds"] / r["titles"] for r in runs]
    save(
        RESULT,
        {
            "runs": runs,
            "seconds_per_1000_titles": [round(1000 * r, 3) for r in rates],
            "targets": {
                "largest_under_10_minutes": runs[-1]["seconds"] < 600,
                "largest_under_4_gb": runs[-1]["peak_rss_mb"] < 4096,
            },
        },
    )


def section(s: dict[str, Any]) -> list[str]:
    return [
        f"## Scale: synthetic catalogues ({s['machine']['date']})",
        "",
        "| titles | clean titles | wall seconds | peak RSS (MB) | s per 1,000 titles | "
        + " | ".join(f"{p} s" for p in PIPELINES)
        + " |",
        "| ---: | ---: | ---: | ---: | ---: | "
        + " | ".join("---:" for _ in PIPELINES)
        + " |",
        *[
            f"| {r['titles']:,} | {r['clean_titles']:,} | {r['seconds']} | {r['peak_rss_mb']} | {round(1000 * r['seconds'] / r['titles'], 2)} | "
            + " | ".join(str(r["pipelines"][p]["seconds"]) for p in PIPELINES)
            + " |"
            for r in s["runs"]
        ],
        "",
        f"Targets for the largest: under 10 minutes **{yes(s['targets']['largest_under_10_minutes'])}**, "
        f"under 4 GB **{yes(s['targets']['largest_under_4_gb'])}**. Parameters: {s['runs'][0]['params'] or 'defaults'}.",
        "",
    ]
