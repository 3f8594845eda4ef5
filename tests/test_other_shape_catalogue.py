"""A catalogue in another shape runs end to end with the column map alone.

A few hundred titles as Parquet under a team's own headers (``Name``,
``synopsis``, ``genres``, ``Year``, ``added_on``, ``Director``), with no
show_id, no type and no country, rating, cast or duration; then new titles as
JSON Lines, also without show_id, through assign. Only
``data_processing.columns`` changes (README, "Your own catalogue").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netflix_dec.catalogue import ENV_VAR, NEW_TITLES_ENV_VAR
from netflix_dec.sample import generate_catalogue

from .conftest import make_project_copy, run_kedro_session

pytestmark = pytest.mark.slow

MAP = {
    "title": "Name",
    "description": "synopsis",
    "listed_in": "genres",
    "release_year": "Year",
    "date_added": "added_on",
}


def _export(n_titles: int) -> pd.DataFrame:
    titles = generate_catalogue(n_titles=n_titles, seed=11, missing_share=0.05)
    titles = titles.loc[titles["type"] == "Movie"].drop_duplicates(
        subset=["title", "description"]
    )
    return pd.DataFrame(
        {
            "Name": titles["title"].to_numpy(),
            "synopsis": titles["description"].to_numpy(),
            "genres": titles["listed_in"].to_numpy(),
            "Year": titles["release_year"].to_numpy(),
            "added_on": titles["date_added"].to_numpy(),
            "Director": titles["director"].to_numpy(),
            "internal_code": np.arange(len(titles)),
        }
    )


def test_a_parquet_catalogue_with_its_own_headers_runs_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    root = make_project_copy(tmp_path)
    export = _export(420)
    catalogue = tmp_path / "our_titles.parquet"
    export.to_parquet(catalogue, index=False)
    # As the README says: the project's own catalogue in the run's environment
    # (conf/local by default; this run's is fast), which replaces base's
    # raw_titles whatever NETFLIX_TITLES_CSV says.
    (root / "conf/fast/catalog.yml").write_text(
        "raw_titles:\n  type: netflix_dec.catalogue.CatalogueDataset\n"
        f"  filepath: {catalogue}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "not_this_one.csv"))
    monkeypatch.chdir(root)
    params = {"data_processing": {"columns": MAP}}
    run_kedro_session(root, env="fast", params=params)

    data = root / "data"
    clusters = pd.read_csv(data / "07_model_output/clusters.csv")
    assert len(clusters) == len(export) > 250  # no type: every title kept
    assert clusters["show_id"].str.fullmatch(r"c[0-9a-f]{16}").all()
    profile = json.loads((data / "08_reporting/data_profile.json").read_text())
    assert set(profile["absent_columns"]) == {
        "type",
        "cast",
        "country",
        "rating",
        "duration",
    }
    clean = pd.read_csv(data / "03_primary/clean_titles.csv")
    assert "country" not in clean and clean["director"].notna().all()
    metrics = json.loads(
        next(
            (data / "08_reporting/clustering_metrics.json").rglob("*.json")
        ).read_text()
    )
    assert metrics["final"]["nmi"] is not None  # genres came through the map
    source = json.loads((data / "02_intermediate/raw_titles_source.json").read_text())
    assert source["path"] == str(catalogue) and source["rows"] == len(export)
    report = (data / "08_reporting/catalogue_report.html").read_text(encoding="utf-8")
    assert str(catalogue) in report and "not_this_one" not in report

    # New titles as JSON Lines, no show_id: the same map, the same ids.
    new = export.head(5).drop(columns=["genres", "internal_code"])
    new_path = tmp_path / "new_titles.jsonl"
    new.to_json(new_path, orient="records", lines=True)
    monkeypatch.setenv(NEW_TITLES_ENV_VAR, str(new_path))
    run_kedro_session(root, ["assign"], env="fast", params=params)
    assigned = pd.read_csv(data / "07_model_output/assigned_titles.csv")
    ids = dict(zip(clean["title"], clean["show_id"], strict=True))
    assert assigned["show_id"].tolist() == [ids[title] for title in new["Name"]]
    assert assigned["seen"].all()
    training = clusters.set_index("show_id")["cluster"]
    assert (assigned["cluster"].to_numpy() == training[assigned["show_id"]]).all()
