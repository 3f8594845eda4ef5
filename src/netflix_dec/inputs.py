"""Which raw catalogue a run reads.

A fresh clone must run without the Kaggle file, yet a user who has it should
not need to edit the catalogue. The ``raw_titles_path`` config resolver picks,
in this order: the file named by ``NETFLIX_TITLES_CSV``, the Kaggle file at
``data/01_raw/netflix_titles.csv``, and the bundled synthetic sample.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "NETFLIX_TITLES_CSV"
REAL_TITLES_PATH = "data/01_raw/netflix_titles.csv"


def raw_titles_path(real: str = REAL_TITLES_PATH, sample: str = "") -> str:
    """Resolve the raw catalogue path for ``conf/base/catalog.yml``.

    Args:
        real: Where the Kaggle file goes, relative to the project root.
        sample: The bundled sample, used when there is no real file.

    Returns:
        The path to read; relative paths are taken from the project root, as
        every catalogue path is.
    """
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return from_env
    if Path(real).is_file():
        return real
    return sample


def describe_source(path: str | Path, sample: str | Path) -> str:
    """One log line saying which catalogue a run reads and how to change it."""
    path = Path(path)
    if path.resolve() == Path(sample).resolve():
        return (
            f"Input: the bundled synthetic sample {path}. For the real catalogue, put "
            f"Kaggle's netflix_titles.csv at {REAL_TITLES_PATH} or set {ENV_VAR}."
        )
    origin = f"from {ENV_VAR}" if os.environ.get(ENV_VAR, "").strip() else "real file"
    return f"Input: {path} ({origin})."
