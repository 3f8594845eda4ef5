"""What every benchmark shares: measured `kedro` runs, the notebook's environment,
the machine record and saving results.

Every run of the project happens in a scratch copy of its configuration through
the ``kedro`` command (both from :mod:`tests.support`, which the end-to-end tests
use too), so Kedro's start-up is included and the working tree's ``data/`` is
left alone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from netflix_dec.catalogue import ENV_VAR
from tests.support import ROOT, kedro_command, kedro_env, latest

WORK = ROOT / "benchmarks" / ".work"
RESULTS = ROOT / "benchmarks" / "results"
# Resolved now: the runs happen in a scratch copy, where a relative path (as CI
# sets it, ../shared/...) would point somewhere else.
REAL_CSV = (
    Path(os.environ.get(ENV_VAR, ROOT / "../shared/data/netflix_titles.csv"))
    .expanduser()
    .resolve()
)
SEED_SCRIPT = (
    Path(
        os.environ.get("NETFLIX_SEED_SCRIPT", ROOT / "../shared/seed/seed_baseline.py")
    )
    .expanduser()
    .resolve()
)
SEED_PACKAGES = [
    "tensorflow-cpu==2.21.*",
    "tf_keras==2.21.*",
    "pandas",
    "scikit-learn",
    "seaborn",
    "matplotlib",
]
PIPELINES = ("data_processing", "encoding", "dec_clustering", "visualization")


# ---- measuring commands ---------------------------------------------------------------


def measure(command: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run a command; return wall seconds, peak RSS (MB) and its output."""
    started = time.perf_counter()
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        output = process.stdout.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        sys.stderr.write(output[-5000:])
        raise RuntimeError(
            f"{' '.join(command)} failed with exit code {process.returncode}"
        )
    return {
        "seconds": round(seconds, 2),
        # CPU seconds of the command itself: less sensitive than wall time to
        # other work on a shared machine.
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "output": output,
    }


def kedro_run(root: Path, csv: Path, *args: str) -> dict[str, Any]:
    """``kedro run`` in a scratch project, measured; adds the per-node record."""
    result = measure(kedro_command("run", *args), cwd=root, env=kedro_env(csv))
    timings = json.loads((root / "data/08_reporting/run_timings.json").read_text())
    result["nodes"] = timings["nodes"]
    # The pipeline's own seconds, and how much of them loading and saving took
    # (records made before dataset timing have none of these).
    result["pipeline_seconds"] = timings["seconds"]
    for key in ("load_seconds", "save_seconds"):
        if key in timings:
            result[key] = timings[key]
    result["slowest_datasets"] = timings.get("datasets", [])[:5]
    result["pipelines"] = {
        name: {
            "seconds": round(
                sum(n["seconds"] for n in timings["nodes"] if n["pipeline"] == name), 2
            ),
            "peak_rss_mb": max(
                (n["peak_rss_mb"] for n in timings["nodes"] if n["pipeline"] == name),
                default=None,
            ),
        }
        for name in PIPELINES
    }
    return result


def shown(path: Path) -> str:
    """A path as results record it: relative to the project, no machine's folders."""
    return os.path.relpath(path, ROOT)


def head_commit() -> str:
    """The commit measured (plus uncommitted edits): the package's checkout
    when ``PYTHONPATH`` points at another one, else this one."""
    src = os.environ.get("PYTHONPATH", "").split(os.pathsep)[0]
    where = Path(src).parent if src else ROOT
    return subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=where if where.is_dir() else ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: how busy the machine was."""
    return [round(x, 2) for x in os.getloadavg()]


def metrics(root: Path) -> dict[str, Any]:
    """The clustering metrics a run of the project at ``root`` wrote."""
    return json.loads(
        latest(root / "data/08_reporting/clustering_metrics.json").read_text(
            encoding="utf-8"
        )
    )


def seed_venv() -> Path:
    """The notebook's own environment (TF 2.21 with tf_keras), created once."""
    python = WORK / "seed-venv" / "bin" / "python"
    if not python.exists():
        subprocess.run(
            [sys.executable, "-m", "venv", str(python.parents[1])], check=True
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *SEED_PACKAGES], check=True
        )
    return python


def notebook_run(csv: Path) -> dict[str, Any]:
    """The notebook script on ``csv``, measured; adds its own per-stage seconds."""
    out = WORK / "seed-out"
    out.mkdir(parents=True, exist_ok=True)
    result = measure(
        [str(seed_venv()), str(SEED_SCRIPT), str(csv), str(out)],
        cwd=WORK,
        env={**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    result["stages"] = json.loads(result["output"].strip().splitlines()[-1])
    return result


def strip(result: dict[str, Any]) -> dict[str, Any]:
    """A measured result without its captured output, for the JSON record."""
    return {k: v for k, v in result.items() if k != "output"}


# ---- the machine and the results ------------------------------------------------------


def machine() -> dict[str, Any]:
    """The CPU, memory, Python and library versions a result was measured with."""
    flags = ""
    if Path("/proc/cpuinfo").exists():
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in lines
                if line.startswith("model name")
            ),
            "",
        )
        flags = next((line for line in lines if line.startswith("flags")), "")
    else:
        model = platform.processor()
    versions = {
        name: metadata.version(name)
        for name in (
            "kedro",
            "kedro-datasets",
            "kedro-viz",
            "tensorflow-cpu",
            "keras",
            "scikit-learn",
            "pandas",
            "bokeh",
        )
        if _installed(name)
    }
    return {
        "date": dt.date.today().isoformat(),
        "cpu": model,
        "cores": os.cpu_count(),
        "avx2": " avx2" in flags,
        "memory_gb": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "python": platform.python_version(),
        "versions": versions,
    }


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def save(name: str, payload: dict[str, Any]) -> None:
    """Write ``results/<name>.json`` with the machine it was measured on."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), **payload}
    write_atomic(RESULTS / f"{name}.json", json.dumps(payload, indent=2) + "\n")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that a kill leaves the previous file whole."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def load(name: str) -> dict[str, Any] | None:
    """``results/<name>.json``, or None when that benchmark has not been run."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def yes(flag: bool) -> str:
    """How results.md states a target."""
    return "met" if flag else "not met"
