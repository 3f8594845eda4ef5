"""Speed: the full default run against the notebook script, alternating."""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from benchmarks.harness import (
    REAL_CSV,
    WORK,
    kedro_run,
    notebook_run,
    save,
    scratch_project,
    strip,
    yes,
)

RESULT = "speed"
NEEDS_REAL_CSV = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=3)


def run(args: argparse.Namespace) -> None:
    """The full default run and the notebook, alternating, ``repeats`` times each."""
    repeats = args.repeats
    project, notebook, tfidf = [], [], []
    for i in range(repeats):
        print(f"[speed {i + 1}/{repeats}] project", flush=True)
        project.append(strip(kedro_run(scratch_project(WORK / "project"), REAL_CSV)))
        print(f"[speed {i + 1}/{repeats}] notebook", flush=True)
        notebook.append(strip(notebook_run(REAL_CSV)))
        print(f"[speed {i + 1}/{repeats}] project, tfidf features", flush=True)
        tfidf.append(
            strip(
                kedro_run(
                    scratch_project(WORK / "project"),
                    REAL_CSV,
                    "--params",
                    "encoding.features=tfidf",
                )
            )
        )
    p_seconds = statistics.median(r["seconds"] for r in project)
    n_seconds = statistics.median(r["seconds"] for r in notebook)
    p_memory = statistics.median(r["peak_rss_mb"] for r in project)
    n_memory = statistics.median(r["peak_rss_mb"] for r in notebook)
    save(
        RESULT,
        {
            "csv": str(REAL_CSV),
            "repeats": repeats,
            "project_median_seconds": p_seconds,
            "notebook_median_seconds": n_seconds,
            "ratio_seconds": round(p_seconds / n_seconds, 3),
            "project_median_peak_rss_mb": p_memory,
            "notebook_median_peak_rss_mb": n_memory,
            "targets": {
                "time_at_most_half_of_notebook": p_seconds <= 0.5 * n_seconds,
                "memory_at_most_notebook": p_memory <= n_memory,
            },
            "tfidf_median_seconds": statistics.median(r["seconds"] for r in tfidf),
            "tfidf_median_peak_rss_mb": statistics.median(
                r["peak_rss_mb"] for r in tfidf
            ),
            "project_runs": project,
            "notebook_runs": notebook,
            "tfidf_runs": tfidf,
        },
    )


def section(s: dict[str, Any]) -> list[str]:
    return [
        f"## Speed: full default run vs the notebook (real catalogue, {s['machine']['date']}, median of {s['repeats']})",
        "",
        "| | wall seconds | peak RSS (MB) |",
        "| --- | ---: | ---: |",
        f"| project (`kedro run`, start-up included) | {s['project_median_seconds']} | {s['project_median_peak_rss_mb']} |",
        f"| notebook (`seed_baseline.py`) | {s['notebook_median_seconds']} | {s['notebook_median_peak_rss_mb']} |",
        f"| project with `--params encoding.features=tfidf` | {s['tfidf_median_seconds']} | {s['tfidf_median_peak_rss_mb']} |",
        f"| ratio project / notebook | {s['ratio_seconds']} | {round(s['project_median_peak_rss_mb'] / s['notebook_median_peak_rss_mb'], 3)} |",
        "",
        f"Targets: time ≤ 0.5 × notebook: **{yes(s['targets']['time_at_most_half_of_notebook'])}**; "
        f"peak memory ≤ notebook: **{yes(s['targets']['memory_at_most_notebook'])}**.",
        "",
        "Per pipeline (first project run; node function time, loads and saves excluded):",
        "",
        "| pipeline | seconds | peak RSS (MB) |",
        "| --- | ---: | ---: |",
        *[
            f"| {k} | {v['seconds']} | {v['peak_rss_mb']} |"
            for k, v in s["project_runs"][0]["pipelines"].items()
        ],
        "",
        "Slowest nodes (first project run):",
        "",
        *[
            f"- {n['node']}: {n['seconds']} s"
            for n in sorted(s["project_runs"][0]["nodes"], key=lambda n: -n["seconds"])[
                :6
            ]
        ],
        "",
        "Notebook stages (first run, seconds): "
        + ", ".join(f"{k} {v}" for k, v in s["notebook_runs"][0]["stages"].items()),
        "",
    ]
