"""A catalogue under its own column names and in its own file format (issue 25).

Each case is a small file made in the test: renamed headers through the column
map, mixed-case headers, no show_id, no type, Parquet, JSON Lines, a
semicolon-delimited CSV, a mapped column the file does not have.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from netflix_dec.catalogue import (
    DEFAULT_REQUIRED_COLUMNS,
    NOT_IN_CATALOGUE,
    CatalogueDataset,
    RawTitlesError,
    check_new_titles_file,
    check_titles_file,
    check_titles_header,
    clean_catalogue,
    content_ids,
    resolve_columns,
)
from netflix_dec.params import DataProcessingParams
from netflix_dec.pipelines.assign import nodes as assign
from netflix_dec.pipelines.data_processing import nodes

# A team's export: other names for title, description and genres, no show_id,
# no type, a year and a director, a column the project does not know.
MAP = {"title": "name", "description": "synopsis", "listed_in": "genres"}


def _export(rows: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [f"Film {i}" for i in range(rows)],
            "synopsis": [f"A story of {word}." for word in "abcdefghij"[:rows]],
            "genres": ["Dramas, Comedies"] * rows,
            "release_year": list(range(2000, 2000 + rows)),
            "Director": ["Ann"] * rows,
            "internal_code": list(range(rows)),
        }
    )


def _params(columns: dict[str, str] | None = None) -> DataProcessingParams:
    return DataProcessingParams(types=["Movie"], top_n=5, columns=columns or {})


def _clean(path: Path, columns: dict[str, str], **read) -> pd.DataFrame:
    titles = check_titles_file(path, ["Movie"], columns, **read)
    return clean_catalogue(titles, ["Movie"], DEFAULT_REQUIRED_COLUMNS)[0]


def test_renamed_headers_are_read_through_the_column_map(tmp_path: Path):
    path = tmp_path / "export.csv"
    _export().to_csv(path, index=False)
    cleaned = _clean(path, MAP)
    assert list(cleaned.columns) == [
        "show_id",
        "title",
        "director",
        "release_year",
        "listed_in",
        "description",
    ]
    assert cleaned["title"].tolist() == [f"Film {i}" for i in range(6)]
    assert cleaned["listed_in"].iloc[0] == "Dramas, Comedies"


def test_mixed_case_headers_are_found_without_a_map(tmp_path: Path):
    path = tmp_path / "shouting.csv"
    _export().rename(
        columns={
            "name": "TITLE",
            "synopsis": "Description",
            "release_year": "Release Year",
        }
    ).assign(Show_ID=[f"x{i}" for i in range(6)]).to_csv(path, index=False)
    resolved = check_titles_header(path)
    assert resolved == {
        "show_id": "Show_ID",
        "title": "TITLE",
        "director": "Director",
        "release_year": "Release Year",
        "description": "Description",
    }
    assert _clean(path, {})["show_id"].tolist() == [f"x{i}" for i in range(6)]


def test_without_show_id_ids_come_from_the_content_and_repeat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    export = _export()
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    export.to_csv(first, index=False)
    # Another export of the same titles: other order, another extra column.
    export.iloc[::-1].assign(internal_code=0).to_csv(second, index=False)
    ids_a = _clean(first, MAP).set_index("title")["show_id"]
    ids_b = _clean(second, MAP).set_index("title")["show_id"]
    assert ids_a.is_unique and ids_a.str.fullmatch(r"c[0-9a-f]{16}").all()
    pd.testing.assert_series_equal(ids_a.sort_index(), ids_b.sort_index())
    # The data_processing node says so in the log.
    validated = nodes.validate_titles(pd.read_csv(first), _params(MAP))
    with caplog.at_level(logging.INFO):
        cleaned, report = nodes.clean_titles(validated, _params(MAP))
    assert "No show_id column" in caplog.text
    assert report["show_id"] == "made from title and description"
    assert cleaned["show_id"].tolist() == ids_a.loc[cleaned["title"]].tolist()


def test_rows_with_the_same_title_and_description_are_one_title_without_show_id():
    titles = pd.DataFrame(
        {
            "title": ["A", "A", "B"],
            "description": ["x", "x", "y"],
            "cast": ["1", "2", "3"],
        }
    )
    cleaned, report = clean_catalogue(titles, ["Movie"], DEFAULT_REQUIRED_COLUMNS)
    assert cleaned["title"].tolist() == ["A", "B"]
    assert report["removed"]["duplicates"] == 1
    assert content_ids(titles).iloc[0] == content_ids(titles).iloc[1]


def test_without_type_every_row_is_kept_and_its_plot_says_not_in_this_catalogue(
    tmp_path: Path,
):
    path = tmp_path / "films.csv"
    _export().to_csv(path, index=False)
    titles = check_titles_file(path, ["Movie"], MAP)  # types ask for a type column
    cleaned, report = nodes.clean_titles(titles, _params(MAP))
    assert len(cleaned) == 6
    assert report["removed"]["other_types"] == 0
    assert "type" in report["absent_columns"]
    profile = nodes.profile_titles(titles, cleaned, report)
    assert profile["titles_per_type"] is None
    assert set(profile["absent_columns"]) == {
        "type",
        "cast",
        "country",
        "date_added",
        "rating",
        "duration",
    }
    figures = {
        "type": nodes.plot_titles_per_type(titles),
        "date_added": nodes.plot_titles_added_per_year(titles),
        "country": nodes.plot_top_countries(cleaned, _params()),
        "rating": nodes.plot_ratings(cleaned),
    }
    for column, figure in figures.items():
        texts = [text.get_text() for text in figure.axes[0].texts]
        assert texts == [f"{column}: {NOT_IN_CATALOGUE}"], column
    # A column the catalogue has is still drawn.
    genres = nodes.plot_top_genres(cleaned, _params())
    assert genres.axes[0].patches
    assert not any(NOT_IN_CATALOGUE in t.get_text() for t in genres.axes[0].texts)


def test_a_parquet_catalogue_is_read_by_its_extension(tmp_path: Path):
    path = tmp_path / "export.parquet"
    _export().to_parquet(path, index=False)
    dataset = CatalogueDataset(filepath=str(path), load_args={"encoding": "utf-8"})
    assert dataset.file_format == "parquet"
    assert "encoding" not in dataset.load_args  # a CSV argument, not used
    pd.testing.assert_frame_equal(dataset.load(), _export())
    assert len(_clean(path, MAP)) == 6
    # By a parameter when the name says nothing.
    unnamed = tmp_path / "export.data"
    unnamed.write_bytes(path.read_bytes())
    with pytest.raises(RawTitlesError, match="is a Parquet file, read as CSV"):
        check_titles_header(unnamed, MAP)
    assert len(_clean(unnamed, MAP, file_format="parquet")) == 6


def test_a_json_lines_catalogue_is_read_by_its_extension(tmp_path: Path):
    path = tmp_path / "export.jsonl"
    _export().to_json(path, orient="records", lines=True)
    assert CatalogueDataset(filepath=str(path)).file_format == "jsonl"
    assert check_titles_header(path, MAP)["title"] == "name"
    cleaned = _clean(path, MAP)
    assert cleaned["description"].tolist() == _export()["synopsis"].tolist()


def test_a_semicolon_csv_needs_its_delimiter_and_the_message_says_so(tmp_path: Path):
    path = tmp_path / "export.csv"
    _export().to_csv(path, index=False, sep=";", encoding="latin-1")
    with pytest.raises(RawTitlesError) as error:
        check_titles_header(path, MAP)
    assert "looks ';'-delimited" in str(error.value)
    assert "sep: ';'" in str(error.value)
    load_args = {"sep": ";", "encoding": "latin-1"}
    assert len(_clean(path, MAP, load_args=load_args)) == 6
    dataset = CatalogueDataset(filepath=str(path), load_args=load_args)
    assert dataset.load()["name"].tolist() == _export()["name"].tolist()


def test_a_mapped_column_the_file_lacks_is_named_with_the_closest_match(
    tmp_path: Path,
):
    path = tmp_path / "export.csv"
    _export().to_csv(path, index=False)
    with pytest.raises(RawTitlesError) as error:
        check_titles_file(path, ["Movie"], MAP | {"description": "synopses"})
    message = str(error.value)
    assert "maps description to 'synopses'" in message
    assert "no column 'synopses' (closest: 'synopsis')" in message
    assert "Columns found: ['name', 'synopsis', 'genres'" in message


def test_a_file_column_is_one_project_column_only():
    # title comes from the map, so the file's own "Title" is left unused.
    resolved = resolve_columns(
        ["Title", "name", "plot"], {"title": "name", "description": "plot"}
    )
    assert resolved == {"title": "name", "description": "plot"}
    with pytest.raises(RawTitlesError, match="several columns that could be title"):
        resolve_columns(["Title", "TITLE", "description"])
    with pytest.raises(ValueError, match="several project columns"):
        _params({"title": "name", "description": "Name"})


def test_new_titles_are_read_with_the_same_map_and_get_the_same_ids(tmp_path: Path):
    path = tmp_path / "new.csv"
    new = _export(3).drop(columns=["genres"])
    new.to_csv(path, index=False)
    check_new_titles_file(path, MAP)
    with pytest.raises(RawTitlesError, match="missing column"):
        check_new_titles_file(path)  # without the map: no title column
    training = clean_catalogue(
        nodes.validate_titles(_export(), _params(MAP)),
        ["Movie"],
        DEFAULT_REQUIRED_COLUMNS,
    )[0]
    checked = assign.check_new_titles(pd.read_csv(path), training, _params(MAP))
    assert checked["show_id"].tolist() == training["show_id"].head(3).tolist()
    assert checked["seen"].all()


def test_compressed_and_tab_separated_files_are_read_by_their_names(tmp_path: Path):
    gzipped, tabbed = tmp_path / "export.csv.gz", tmp_path / "export.tsv"
    _export().to_csv(gzipped, index=False)
    _export().to_csv(tabbed, index=False, sep="\t")
    for path in (gzipped, tabbed):
        assert CatalogueDataset(filepath=str(path)).file_format == "csv"
        assert _clean(path, MAP)["title"].tolist() == _export()["name"].tolist()
    with pytest.raises(DatasetError, match="is not one of"):
        CatalogueDataset(filepath=str(tabbed), file_format="xlsx")
