"""The raw-catalogue contract: the path resolver and the checks on the file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from netflix_dec.catalogue import (
    COLUMNS,
    DEFAULT_REQUIRED_COLUMNS,
    ENV_VAR,
    SAMPLE_PATH,
    RawTitlesError,
    check_titles_file,
    check_titles_left,
    clean_catalogue,
    describe_cleaning,
    describe_source,
    raw_titles_path,
)


def test_path_prefers_the_variable_then_the_real_file_then_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert raw_titles_path("real.csv", "sample.csv") == "sample.csv"
    (tmp_path / "real.csv").write_text("x")
    assert raw_titles_path("real.csv", "sample.csv") == "real.csv"
    monkeypatch.setenv(ENV_VAR, " /elsewhere/titles.csv ")
    assert raw_titles_path("real.csv", "sample.csv") == "/elsewhere/titles.csv"


def test_describe_source_says_how_to_use_the_real_file():
    line = describe_source(SAMPLE_PATH)
    assert "bundled synthetic sample" in line and ENV_VAR in line


def test_describe_source_credits_the_variable_only_for_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ours, other = tmp_path / "ours.csv", tmp_path / "other.csv"
    monkeypatch.setenv(ENV_VAR, str(ours))

    assert describe_source(ours) == f"Input: {ours} (from {ENV_VAR})."
    # A raw_titles entry of the run's environment reads another file.
    assert describe_source(other) == f"Input: {other} (real file)."


def test_check_titles_file_accepts_the_sample(sample_titles, tmp_path: Path):
    path = tmp_path / "ok.csv"
    sample_titles.to_csv(path, index=False)
    check_titles_file(path, ["Movie"])


def test_check_titles_file_names_a_missing_file(tmp_path: Path):
    with pytest.raises(RawTitlesError, match=r"nope\.csv does not exist"):
        check_titles_file(tmp_path / "nope.csv", ["Movie"])


def test_check_titles_file_names_an_empty_file(tmp_path: Path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(RawTitlesError, match=r"empty\.csv is empty"):
        check_titles_file(path, ["Movie"])


def test_check_titles_file_names_a_file_that_is_not_csv(tmp_path: Path):
    path = tmp_path / "titles.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00\x81")
    with pytest.raises(RawTitlesError, match=r"titles\.csv is not a UTF-8 CSV"):
        check_titles_file(path, ["Movie"])


def test_check_titles_file_names_the_file_and_missing_columns(
    sample_titles, tmp_path: Path
):
    path = tmp_path / "partial.csv"
    sample_titles.drop(columns=["description", "title"]).to_csv(path, index=False)
    with pytest.raises(RawTitlesError) as error:
        check_titles_file(path, ["Movie"])
    assert "partial.csv" in str(error.value)
    assert "missing column(s) ['title', 'description']" in str(error.value)


def test_check_titles_file_names_a_file_without_the_selected_type(
    sample_titles, tmp_path: Path
):
    path = tmp_path / "shows.csv"
    sample_titles.loc[sample_titles["type"] == "TV Show"].to_csv(path, index=False)
    with pytest.raises(
        RawTitlesError,
        match=r"shows\.csv has no title whose type is in \['Movie'\]",
    ):
        check_titles_file(path, ["Movie"])


def test_check_titles_file_names_a_directory_as_a_directory(tmp_path: Path):
    folder = tmp_path / "netflix_titles.csv"
    folder.mkdir()
    with pytest.raises(RawTitlesError, match=r"netflix_titles\.csv is a directory"):
        check_titles_file(folder, ["Movie"])


def test_check_titles_file_names_a_header_only_file(sample_titles, tmp_path: Path):
    path = tmp_path / "header.csv"
    sample_titles.head(0).to_csv(path, index=False)
    with pytest.raises(RawTitlesError, match=r"header\.csv has a header but no rows"):
        check_titles_file(path, ["Movie"])


def _clean(descriptions: list[str]):
    titles = pd.DataFrame(
        {
            column: [f"{column}{i}" for i in range(len(descriptions))]
            for column in COLUMNS
        }
    ).assign(type="Movie", release_year=2000, description=descriptions)
    return clean_catalogue(titles, ["Movie"], DEFAULT_REQUIRED_COLUMNS)


def test_titles_left_refuses_descriptions_without_a_word():
    cleaned, report = _clean(["...", "!!", "--"])
    with pytest.raises(
        RawTitlesError, match="None of the 3 descriptions .* holds a word"
    ):
        check_titles_left(cleaned, report, "t.csv")


def test_titles_left_counts_the_points_t_sne_places():
    cleaned, report = _clean([f"story {i}" for i in range(40)])
    check_titles_left(cleaned, report, "t.csv", perplexity=30, max_points=1000)
    with pytest.raises(RawTitlesError, match=r"perplexity is 30, but .* only 25"):
        check_titles_left(cleaned, report, "t.csv", perplexity=30, max_points=25)


def test_cleaning_report_names_the_column_that_removed_most():
    cleaned, report = _clean(["a b", " ", "", "c d"])
    assert len(cleaned) == 2
    assert report["removed_most"] == {
        "reason": "missing description",
        "column": "description",
        "rows": 2,
        "parameter": "data_processing.required_columns",
    }
    assert "Removed most: missing description (2 rows" in describe_cleaning(report)
