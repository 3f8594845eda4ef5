"""A sibling catalogue runs end to end with the default cleaning.

Kaggle's tables for other services have the 12 columns but little else in
common: optional columns mostly empty, dates in other forms, odd values. This
builds one (a few hundred titles, 90% of every optional column empty, Kaggle,
ISO and year-only dates, cells a spreadsheet would run as formulas, a ``$`` in
a genre) and runs every pipeline on it in the ``fast`` environment.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netflix_dec.catalogue import ENV_VAR
from netflix_dec.sample import generate_catalogue

from .conftest import make_project_copy, run_kedro_session

pytestmark = pytest.mark.slow

OPTIONAL = ["director", "cast", "country", "date_added", "rating", "duration"]


def _sibling(path: Path) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    titles = generate_catalogue(n_titles=400, seed=7, missing_share=0.0)
    titles = titles.drop_duplicates().reset_index(drop=True)
    for column in [*OPTIONAL, "listed_in"]:
        titles.loc[rng.random(len(titles)) < 0.9, column] = np.nan
    dated = titles.index[titles["date_added"].notna()]
    stamps = pd.to_datetime(
        titles.loc[dated, "date_added"].str.strip(), format="%B %d, %Y"
    )
    forms = rng.integers(0, 4, len(dated))
    titles.loc[dated, "date_added"] = np.select(
        [forms == 0, forms == 1, forms == 2],
        [
            stamps.dt.strftime(" %B %d, %Y"),  # Kaggle, leading space
            stamps.dt.strftime("%Y-%m-%d"),
            stamps.dt.strftime("%Y"),
        ],
        stamps.dt.strftime("%B %d, %Y"),
    )
    movies = titles.index[titles["type"] == "Movie"]
    titles.loc[movies[0], "title"] = '=HYPERLINK("http://x")'
    titles.loc[movies[1], "title"] = "@SUM(A1)"
    titles.loc[movies[2], "listed_in"] = "Costs $5 to $10"
    titles.loc[movies[3], "description"] = "   "  # blank: dropped
    titles.to_csv(path, index=False)
    return titles


def test_a_sibling_catalogue_runs_end_to_end(tmp_path: Path, monkeypatch):
    root = make_project_copy(tmp_path)
    catalogue = tmp_path / "sibling_titles.csv"
    titles = _sibling(catalogue)
    monkeypatch.setenv(ENV_VAR, str(catalogue))
    monkeypatch.chdir(root)
    run_kedro_session(root, env="fast")

    data = root / "data"
    usable = (titles["type"] == "Movie") & titles["description"].str.strip().ne("")
    clusters = pd.read_csv(data / "07_model_output/clusters.csv")
    assert len(clusters) == usable.sum() > 250
    profile = json.loads((data / "08_reporting/data_profile.json").read_text())
    assert profile["cleaning"]["removed"]["missing_required"] == 1
    assert profile["cleaning"]["filled"]["country"] > 0.8 * len(titles)
    for name in ("titles_added_per_year", "top_countries", "top_genres", "ratings"):
        assert (data / f"08_reporting/{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert (data / "08_reporting/cluster_explorer.html").stat().st_size > 0
    # Formula-like titles are escaped on disk and read back as they were.
    for csv in ("03_primary/clean_titles.csv", "07_model_output/clusters.csv"):
        text = (data / csv).read_text(encoding="utf-8")
        assert "'=HYPERLINK" in text and "'@SUM(A1)" in text, csv
        assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text, csv
