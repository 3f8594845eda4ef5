"""What the end-to-end tests (and the benchmarks) share: a scratch project, `kedro`.

Every run of the project in a test happens in a scratch copy of its configuration
through the ``kedro`` command or a Kedro session, so the working tree's ``data/``
is left alone. The benchmarks import these too (``benchmarks/harness.py`` adds
measuring and saving on top), so the tests do not depend on the benchmarks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from netflix_dec.catalogue import ENV_VAR

ROOT = Path(__file__).resolve().parents[1]


def scratch_project(root: Path, *, sample: bool = False) -> Path:
    """A fresh copy of the project's configuration at ``root`` to run pipelines in.

    Runs write into its ``data/`` instead of the working tree, and a real file
    in the working tree's ``data/01_raw`` cannot leak into them. The package
    itself is the installed one.

    Args:
        root: Where the copy goes; replaced when it exists.
        sample: Also copy the bundled synthetic sample, for runs without
            ``NETFLIX_TITLES_CSV``.
    """
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(
        ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local")
    )
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()  # bootstrap_project wants it; the package is installed
    if sample:
        from netflix_dec.catalogue import SAMPLE_PATH

        target = root / SAMPLE_PATH
        target.parent.mkdir(parents=True)
        shutil.copy2(ROOT / SAMPLE_PATH, target)
    return root


def kedro_command(*args: str) -> list[str]:
    """The ``kedro`` command of this Python environment with ``args``."""
    kedro = shutil.which("kedro", path=str(Path(sys.executable).parent)) or "kedro"
    return [kedro, *args]


def kedro_env(csv: Path | None = None) -> dict[str, str]:
    """The environment for ``kedro``: telemetry off, quiet TensorFlow, ``csv`` or no file."""
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    env |= {
        "KEDRO_DISABLE_TELEMETRY": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "COLUMNS": "400",  # rich would wrap long error messages at 80 columns
    }
    if csv is not None:
        env[ENV_VAR] = str(csv)
    return env


def kedro(
    root: Path, *args: str, csv: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    """Run ``kedro args`` in the project at ``root``; output captured, never raises."""
    return subprocess.run(
        kedro_command(*args),
        check=False,
        cwd=root,
        env=kedro_env(csv),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def latest(path: Path) -> Path:
    """The file a catalogue entry last saved at ``path``.

    With ``versioned: true`` (the trained models and reports) ``path`` is a
    folder of versions, ``<path>/<version>/<name>``, whose names sort by time;
    otherwise it is the file itself.
    """
    if path.is_dir():
        versions = sorted(v for v in path.iterdir() if (v / path.name).is_file())
        if versions:
            return versions[-1] / path.name
    return path
