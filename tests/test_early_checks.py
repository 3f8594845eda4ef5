"""Bad catalogues fail at run start, naming the problem, and touch no output.

Each test starts from a scratch project whose data_processing outputs were
written by a good run, puts a small bad catalogue in place of the input, runs
Kedro as ``kedro run`` would, and checks the message and that every earlier
output is byte-identical afterwards.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netflix_dec.catalogue import RawTitlesError

from .conftest import make_project_copy, run_kedro_session

pytestmark = pytest.mark.slow

REAL = "data/01_raw/netflix_titles.csv"
THROUGH_CLUSTERING = ["data_processing", "encoding", "dec_clustering"]
EVERYTHING = [*THROUGH_CLUSTERING, "visualization"]


@pytest.fixture(scope="module")
def finished_processing(tmp_path_factory) -> Path:
    """A scratch project after a good data_processing run on the sample."""
    root = make_project_copy(tmp_path_factory.mktemp("checks"))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("NETFLIX_TITLES_CSV", raising=False)
        patch.chdir(root)
        run_kedro_session(root, ["data_processing"], env="fast")
    return root


@pytest.fixture
def project(finished_processing: Path, tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "project"
    shutil.copytree(finished_processing, root)
    monkeypatch.delenv("NETFLIX_TITLES_CSV", raising=False)
    monkeypatch.chdir(root)
    return root


def _outputs(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted((root / "data").rglob("*"))
        if path.is_file() and "01_raw" not in path.parts
    }


def _fails(root: Path, pipelines: list[str], match: str, **kwargs) -> str:
    before = _outputs(root)
    assert len(before) >= 8  # the profile, the clean table and six plots
    with pytest.raises(RawTitlesError, match=match) as error:
        run_kedro_session(root, pipelines, env="fast", **kwargs)
    assert _outputs(root) == before
    return str(error.value)


def _movies(sample: pd.DataFrame, count: int) -> pd.DataFrame:
    return sample.loc[sample["type"] == "Movie"].head(count).copy()


def test_more_clusters_than_titles_fails_before_any_output(project, sample_titles):
    _movies(sample_titles, 5).to_csv(project / REAL, index=False)
    message = _fails(project, THROUGH_CLUSTERING, r"n_clusters is 8, but .* only 5")
    assert "netflix_titles.csv" in message
    assert "Set dec_clustering.n_clusters to at most 5" in message


def test_one_title_fails_before_any_output(project, sample_titles):
    titles = _movies(sample_titles, 3)
    titles.iloc[1:, titles.columns.get_loc("description")] = "  "
    titles.to_csv(project / REAL, index=False)
    message = _fails(project, ["data_processing"], r"Only 1 title .* is left")
    assert "missing description (2 rows" in message
    assert "data_processing.required_columns" in message


def test_identical_descriptions_fail_before_any_output(project, sample_titles):
    _movies(sample_titles, 50).assign(description="A heist.").to_csv(
        project / REAL, index=False
    )
    _fails(project, EVERYTHING, r"All 50 descriptions .* are the same \('A heist\.'\)")


def test_all_empty_descriptions_are_named_not_blamed_on_the_type(
    project, sample_titles
):
    _movies(sample_titles, 40).assign(description=np.nan).to_csv(
        project / REAL, index=False
    )
    message = _fails(project, ["data_processing"], r"No title of .* is left")
    assert "missing description (40 rows" in message
    assert "whose type" not in message


def test_too_few_titles_for_the_perplexity_fail_before_any_output(
    project, sample_titles
):
    _movies(sample_titles, 20).to_csv(project / REAL, index=False)
    _fails(project, EVERYTHING, r"visualization\.perplexity is 30, but .* only 20")


def test_a_directory_in_place_of_the_file_is_named_as_such(project, monkeypatch):
    (project / REAL).mkdir()
    _fails(project, ["data_processing"], r"netflix_titles\.csv is a directory")
    monkeypatch.setenv("NETFLIX_TITLES_CSV", str(project / "data"))
    _fails(project, ["data_processing"], r"data is a directory")


def test_a_header_only_file_is_named_as_such(project, sample_titles):
    sample_titles.head(0).to_csv(project / REAL, index=False)
    _fails(project, ["data_processing"], r"has a header but no rows")


def test_a_run_from_the_clean_table_checks_it_too(project):
    clean = project / "data/03_primary/clean_titles.csv"
    pd.read_csv(clean).head(6).to_csv(clean, index=False)
    # encoding + dec_clustering start from the clean table (dec_clustering alone
    # would first be refused for the encoding outputs this project lacks).
    _fails(
        project,
        ["encoding", "dec_clustering"],
        r"n_clusters is 8, but .*clean_titles\.csv has only 6 distinct",
    )


def test_a_full_disk_during_a_run_leaves_every_earlier_output_whole(
    project, monkeypatch
):
    """A save that fails midway (ENOSPC) stops the run; no output is truncated."""
    real_to_csv = pd.DataFrame.to_csv

    def disk_fills_midway(frame, path_or_buf=None, **kwargs):
        real_to_csv(frame.head(len(frame) // 2), path_or_buf, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    before = _outputs(project)
    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_fills_midway)
    with pytest.raises(Exception, match="No space left on device"):
        run_kedro_session(project, ["data_processing"], env="fast")
    assert _outputs(project) == before
    assert not list((project / "data").rglob("*.tmp.*"))
