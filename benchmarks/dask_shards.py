"""Dask: sharded encoding on a 2-worker local cluster against the sequential run."""

from __future__ import annotations

import argparse
import re
from typing import Any

import numpy as np

from benchmarks.harness import WORK, measure, save, strip
from tests.support import kedro_command, kedro_env, scratch_project

RESULT = "dask_shards"
NEEDS_REAL_CSV = False

# The feature step only: what the shards split. Everything after it is the same
# nodes on the same features, whichever runner ran the shards.
FEATURES_ONLY = ["--pipelines", "encoding", "--to-outputs", "features"]
_SHARD_LINE = re.compile(
    r"Completed node encoding\.shard_(\d+)\.encode_shard on (\S+) in ([\d.]+) s, "
    r"worker peak (\d+) MB"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--titles", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--params", default="", help="extra kedro run --params")


def run(args: argparse.Namespace) -> None:
    """Features of a synthetic catalogue: sequential, then shards on Dask."""
    from netflix_dec.datasets import NumpyDataset
    from netflix_dec.sample import write_catalogue

    csv = WORK / f"synthetic_{args.titles}.csv"
    if not csv.exists():
        write_catalogue(csv, n_titles=args.titles, seed=args.titles)
    extra = f",{args.params}" if args.params else ""
    roots = {}
    runs: dict[str, dict[str, Any]] = {}
    for name, params, runner in (
        ("sequential", f"encoding.shards=1{extra}", []),
        (
            "dask",
            f"encoding.shards={args.shards}{extra}",
            [
                "--runner",
                "netflix_dec.runners.DaskRunner",
                "--runner-params",
                f"n_workers={args.workers},threads_per_worker=1",
            ],
        ),
    ):
        print(f"[dask] {args.titles} titles, {name}", flush=True)
        root = roots[name] = scratch_project(WORK / f"dask-{name}")
        env = kedro_env(csv)
        measure(kedro_command("run", "--pipelines", "data_processing"), root, env)
        command = kedro_command("run", *FEATURES_ONLY, "--params", params, *runner)
        runs[name] = measure(command, root, env)

    features = {
        name: NumpyDataset(filepath=str(root / "data/04_feature/features.npz")).load()
        for name, root in roots.items()
    }
    dense = {
        k: v.toarray() if hasattr(v, "toarray") else v for k, v in features.items()
    }
    shards = [
        {
            "shard": int(m[1]),
            "worker": m[2],
            "seconds": float(m[3]),
            "worker_peak_rss_mb": int(m[4]),
        }
        for m in _SHARD_LINE.finditer(runs["dask"]["output"])
    ]
    titles = dense["sequential"].shape[0]
    for shard in shards:
        first, last = (
            shard["shard"] * titles // args.shards,
            (shard["shard"] + 1) * titles // args.shards,
        )
        shard["titles"] = last - first
        shard["titles_per_second"] = round(shard["titles"] / shard["seconds"], 1)
    save(
        RESULT,
        {
            "titles": args.titles,
            "clean_titles": titles,
            "shards": args.shards,
            "workers": args.workers,
            "params": args.params,
            "sequential": strip(runs["sequential"]),
            "dask": strip(runs["dask"]),
            "dask_over_sequential": round(
                runs["dask"]["seconds"] / runs["sequential"]["seconds"], 2
            ),
            "per_shard": sorted(shards, key=lambda s: s["shard"]),
            "workers_used": len({s["worker"] for s in shards}),
            "max_abs_difference": float(
                np.abs(dense["dask"] - dense["sequential"]).max()
            ),
        },
    )


def section(d: dict[str, Any]) -> list[str]:
    shards = d["per_shard"]
    return [
        f"## Dask: {d['shards']} encoding shards on a {d['workers']}-worker local cluster ({d['machine']['date']})",
        "",
        f"{d['titles']:,} synthetic titles ({d['clean_titles']:,} after cleaning); the "
        "feature step only (`--pipelines encoding --to-outputs features`), after "
        "data_processing. Wall seconds include Kedro's start-up and, for Dask, "
        "starting the cluster and loading the project on each worker. Measured on "
        "a 2-core machine shared with other jobs (see docs/scaling.md).",
        "",
        "| run | wall seconds | peak RSS, largest process (MB) |",
        "| --- | ---: | ---: |",
        f"| sequential, 1 shard | {d['sequential']['seconds']} | {d['sequential']['peak_rss_mb']} |",
        f"| Dask, {d['shards']} shards, {d['workers']} workers | {d['dask']['seconds']} | {d['dask']['peak_rss_mb']} |",
        "",
        f"Dask / sequential: **{d['dask_over_sequential']}×** (on 2 cores no "
        "speed-up is expected: the row shows the overhead). Shards ran on "
        f"{d['workers_used']} workers; largest difference between the two feature "
        f"matrices: {d['max_abs_difference']:.2g}.",
        "",
        "| shard | titles | seconds | titles/s | worker peak RSS (MB) |",
        "| ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {s['shard']} | {s['titles']:,} | {s['seconds']} | {s['titles_per_second']} | {s['worker_peak_rss_mb']} |"
            for s in shards
        ],
        "",
    ]
