"""What MLflow tracking costs a run: the same `kedro run` with tracking on and off."""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

from benchmarks.harness import WORK, measure, save
from tests.support import kedro_command, kedro_env, scratch_project

RESULT = "tracking"
NEEDS_REAL_CSV = False
TARGET_SECONDS = 2.0
_TOOK = re.compile(r"tracking took ([0-9.]+) s(?:, ([0-9.]+) s of CPU)?")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--pipelines",
        default="",
        help="pipelines to run (default: the default run), e.g. data_processing",
    )


def run(args: argparse.Namespace) -> None:
    """`kedro run --env fast` on the sample, tracking off and on, alternating.

    One untimed tracked run first creates the SQLite store (a one-off of a few
    seconds). The hook's own time ("tracking took") comes from the run's log;
    the wall-time difference includes everything, start-up too. Importing
    MLflow when kedro-mlflow is installed (Kedro loads its plugin entry
    points) is paid with tracking off as well, so it is not in the difference.
    """
    try:
        import kedro_mlflow  # noqa: F401
    except ImportError as error:
        raise SystemExit("kedro-mlflow is not installed: nothing to measure") from error
    root = scratch_project(WORK / "tracking", sample=True)
    command = kedro_command("run", "--env", "fast")
    if args.pipelines:
        command += ["--pipelines", args.pipelines]
    env = kedro_env()
    measure(command, root, env)  # creates mlflow.db; not timed
    rows = []
    for repeat in range(args.repeats):
        for switch in ("off", "on"):
            load = os.getloadavg()[0]
            result = measure(command, root, env | {"NETFLIX_DEC_TRACKING": switch})
            took = _TOOK.search(result["output"])
            rows.append(
                {
                    "repeat": repeat,
                    "tracking": switch,
                    "seconds": result["seconds"],
                    "hook_seconds": float(took.group(1)) if took else None,
                    "hook_cpu_seconds": float(took.group(2))
                    if took and took.group(2)
                    else None,
                    "load_average": round(load, 1),
                }
            )
            print(rows[-1], flush=True)
    save(
        RESULT,
        {"command": " ".join(command[1:]), "cpus": os.cpu_count(), "rows": rows},
    )


def section(d: dict[str, Any]) -> list[str]:
    on = [r for r in d["rows"] if r["tracking"] == "on"]
    off = [r for r in d["rows"] if r["tracking"] == "off"]
    wall = [r["hook_seconds"] for r in on if r["hook_seconds"] is not None]
    cpu = [r["hook_cpu_seconds"] for r in on if r.get("hook_cpu_seconds") is not None]
    loads = [r["load_average"] for r in d["rows"]]

    def span(values: list[float]) -> str:
        return f"{min(values)}–{max(values)} s" if values else "not measured"

    def verdict(values: list[float]) -> str:
        return "met" if values and max(values) < TARGET_SECONDS else "not met"

    return [
        f"## Tracking overhead ({d['machine']['date']}, `{d['command']}`, alternating)",
        "",
        "| repeat | off: s | on: s | on: the tracking hook, s | its CPU s |",
        "| ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {a['repeat']} | {a['seconds']} | {b['seconds']} | {b['hook_seconds']} "
            f"| {b.get('hook_cpu_seconds')} |"
            for a, b in zip(off, on, strict=True)
        ],
        "",
        f"Time in the tracking hook: {span(wall)} of wall time (target under "
        f"{TARGET_SECONDS} s: {verdict(wall)}), {span(cpu)} of CPU "
        f"({verdict(cpu)}); load average during the runs {min(loads)}–{max(loads)} "
        f"on {d['cpus']} CPUs, so whole-run wall times differ by more than tracking "
        "costs and are shown for completeness only.",
        "",
    ]
