"""model_selection on the planted sample: table, plot and the planted number of genres."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from netflix_dec.pipelines.model_selection.nodes import SCORES
from tests.support import latest

pytestmark = pytest.mark.slow


def test_the_sweep_suggests_the_planted_number_of_genres(swept_sample_run: Path):
    reporting = swept_sample_run / "data/08_reporting"
    report = json.loads(latest(reporting / "model_selection_report.json").read_text())
    assert report["suggested_k"] == 8, report
    assert report["n_clusters"] == [4, 6, 7, 8, 9, 10, 12]  # the fast environment's
    assert "highest silhouette" in report["basis"]


def test_the_sweep_writes_its_table_and_plot(swept_sample_run: Path):
    reporting = swept_sample_run / "data/08_reporting"
    table = pd.read_csv(reporting / "model_selection.csv")
    assert table["n_clusters"].tolist() == [4, 6, 7, 8, 9, 10, 12]
    assert set(SCORES) <= set(table.columns)
    assert table[list(SCORES)].notna().all().all()
    assert (reporting / "model_selection.png").read_bytes()[:4] == b"\x89PNG"


def test_the_sweep_is_not_part_of_the_default_run():
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    from tests.conftest import PROJECT_ROOT

    bootstrap_project(PROJECT_ROOT)
    default = {node.name for node in pipelines["__default__"].nodes}
    sweep = {node.name for node in pipelines["model_selection"].nodes}
    assert sweep and not sweep & default
