"""data_processing as a whole: on the sample, on the real file, on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from netflix_dec.catalogue import RawTitlesError
from netflix_dec.params import DataProcessingParams
from netflix_dec.pipelines.data_processing import create_pipeline

from ...conftest import PROJECT_ROOT

PLOTS = (
    "titles_per_type",
    "titles_added_per_year",
    "top_genres",
    "top_countries",
    "ratings",
    "description_length",
)


def _run(
    titles: pd.DataFrame,
    outputs: tuple[str, ...] = (),
    params: DataProcessingParams | None = None,
) -> dict:
    """Run the pipeline, or the part of it that makes ``outputs``; return free outputs."""
    catalog = DataCatalog()
    catalog["raw_titles"] = titles
    catalog["params:data_processing"] = MemoryDataset(
        params or DataProcessingParams(types=["Movie"], top_n=15)
    )
    pipeline = create_pipeline()
    if outputs:
        pipeline = pipeline.to_outputs(*outputs)
    results = SequentialRunner().run(pipeline, catalog)
    return {name: dataset.load() for name, dataset in results.items()}


def test_pipeline_cleans_the_sample(sample_titles):
    clean = _run(sample_titles, ("clean_titles",))["clean_titles"]
    outputs = _run(sample_titles)
    assert (clean["type"] == "Movie").all()
    assert clean["show_id"].is_unique
    assert clean.notna().all().all()
    rows = outputs["data_profile"]["rows"]
    assert (
        rows["raw"]
        >= rows["after_required_columns"]
        > rows["after_drop_duplicates"]
        > rows["after_type_filter"]
        == len(clean)
    )
    assert outputs["data_profile"]["cleaning"]["filled"]["director"] > 0
    assert {f"{name}_plot" for name in PLOTS} <= outputs.keys()


@pytest.mark.realdata
def test_real_catalogue_keeps_every_movie_with_a_description(
    real_titles: pd.DataFrame,
):
    outputs = _run(real_titles, ("clean_titles",))
    assert len(outputs["clean_titles"]) == 6131
    assert outputs["cleaning_report"]["rows"]["raw"] == 8807
    assert outputs["cleaning_report"]["removed"]["missing_required"] == 0


@pytest.mark.realdata
def test_real_catalogue_keeps_the_notebooks_5277_movies_in_the_notebook_env(
    real_titles: pd.DataFrame,
):
    from kedro.config import OmegaConfigLoader

    config = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"),
        base_env="base",
        default_run_env="notebook",
        merge_strategy={"parameters": "soft"},
    )["parameters"]["data_processing"]
    outputs = _run(real_titles, ("clean_titles",), DataProcessingParams(**config))
    assert len(outputs["clean_titles"]) == 5277
    report = outputs["cleaning_report"]
    assert report["removed"]["missing_required"] == 1517
    assert report["missing_required_by_column"]["country"] == 831


@pytest.mark.slow
def test_kedro_run_writes_table_profile_and_plots_from_the_sample(
    run_session, project_copy: Path, sample_titles: pd.DataFrame
):
    run_session(pipelines=["data_processing"])
    clean = pd.read_csv(project_copy / "data/03_primary/clean_titles.csv")
    profile = json.loads(
        (project_copy / "data/08_reporting/data_profile.json").read_text()
    )
    assert profile["rows"]["raw"] == len(sample_titles)
    assert profile["rows"]["after_type_filter"] == len(clean)
    for name in PLOTS:
        png = project_copy / f"data/08_reporting/{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


@pytest.mark.slow
def test_kedro_run_prefers_the_real_file_in_data_raw(
    run_session, project_copy: Path, sample_titles
):
    real = project_copy / "data/01_raw/netflix_titles.csv"
    sample_titles.head(300).to_csv(real, index=False)
    run_session(pipelines=["data_processing"])
    profile = json.loads(
        (project_copy / "data/08_reporting/data_profile.json").read_text()
    )
    assert profile["rows"]["raw"] == 300


@pytest.mark.slow
def test_kedro_run_fails_before_any_node_naming_the_file(
    run_session, project_copy: Path, sample_titles
):
    real = project_copy / "data/01_raw/netflix_titles.csv"
    # Only a title and a description are required (a missing rating is fine).
    sample_titles.drop(columns=["description"]).to_csv(real, index=False)
    with pytest.raises(
        RawTitlesError,
        match=r"netflix_titles\.csv is missing column\(s\) \['description'\]",
    ):
        run_session(pipelines=["data_processing"])
    assert not (project_copy / "data/03_primary/clean_titles.csv").exists()
