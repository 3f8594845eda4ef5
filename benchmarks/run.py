"""Benchmarks: speed against the notebook, scale, and cluster quality.

Run from the project root with the project's environment::

    python benchmarks/run.py speed     # default run vs the notebook script, alternating
    python benchmarks/run.py scale     # synthetic catalogues of 20,000 and 100,000 titles
    python benchmarks/run.py quality   # NMI/ARI/accuracy over 3 seeds against baselines
    python benchmarks/run.py quality --groups variants   # only some configurations
    python benchmarks/run.py space-grid  # issue 22: clustering-space variants, 850/2,000/all movies
    python benchmarks/run.py map-choice  # issue 22: the t-SNE map against 2-d UMAP of the same graph
    python benchmarks/run.py dec-step  # ms per DEC training step
    python benchmarks/run.py assign    # 1,000 new titles, features cached or not
    python benchmarks/run.py dask      # 4 encoding shards on 2 Dask workers vs sequential
    python benchmarks/run.py model-selection  # the n_clusters sweep on the real file
    python benchmarks/run.py tracking  # a run with MLflow tracking on against off
    python benchmarks/run.py serving   # the exported model served: load, latency, memory
    python benchmarks/run.py continuity  # numbers kept: 85% then 100% of the real file, another seed
    python benchmarks/run.py continuity-gap  # where the grown retrain's NMI gap comes from
    python benchmarks/run.py report    # rewrite results.md from the JSON results

Each benchmark is a module of this folder listed in :data:`BENCHMARKS` under
its command name. A module has ``RESULT`` (the name of its JSON file under
``results/``), ``NEEDS_REAL_CSV``, ``add_arguments(parser)``, ``run(args)``
(measure, then :func:`benchmarks.harness.save`) and ``section(result)`` (its
lines of results.md); its docstring's first line is the command's help. To add
a benchmark, write such a module and add one line to :data:`BENCHMARKS`.

The notebook runs as ``../shared/seed/seed_baseline.py`` (or
``NETFLIX_SEED_SCRIPT``) in its own virtual environment with tf_keras
(``benchmarks/.work/seed-venv``, created on first use). Wall time and peak
resident memory of each command come from the operating system (``wait4``);
per-node figures from the project's ``run_timings.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import (  # noqa: E402
    assign,
    continuity,
    continuity_gap,
    dask_shards,
    dec_step,
    map_choice,
    model_selection,
    quality,
    report,
    scale,
    serving,
    space_grid,
    speed,
    tracking,
)
from benchmarks.harness import REAL_CSV  # noqa: E402

# Command name -> benchmark module, in the order of results.md's sections.
BENCHMARKS = {
    "speed": speed,
    "scale": scale,
    "quality": quality,
    "space-grid": space_grid,
    "map-choice": map_choice,
    "dec-step": dec_step,
    "assign": assign,
    "dask": dask_shards,
    "model-selection": model_selection,
    "tracking": tracking,
    "serving": serving,
    "continuity": continuity,
    "continuity-gap": continuity_gap,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in BENCHMARKS.items():
        module.add_arguments(
            sub.add_parser(name, help=module.__doc__.strip().splitlines()[0])
        )
    sub.add_parser("report", help="rewrite results.md from the JSON results")
    args = parser.parse_args()
    if args.command != "report":
        module = BENCHMARKS[args.command]
        if module.NEEDS_REAL_CSV and not REAL_CSV.is_file():
            parser.error(
                f"the real catalogue is needed: set NETFLIX_TITLES_CSV (now {REAL_CSV})"
            )
        module.run(args)
    report.write(BENCHMARKS.values())


if __name__ == "__main__":
    main()
