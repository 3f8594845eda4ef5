"""Unit tests of the data_processing nodes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from netflix_dec.catalogue import COLUMNS
from netflix_dec.params import DataProcessingParams
from netflix_dec.pipelines.data_processing import nodes

MOVIES = DataProcessingParams(types=["Movie"], top_n=5)  # default required columns


def _titles(**overrides) -> pd.DataFrame:
    rows = [
        {column: f"{column}-{i}" for column in COLUMNS} | {"show_id": f"s{i}"}
        for i in range(4)
    ]
    frame = pd.DataFrame(rows)
    frame["type"] = ["Movie", "Movie", "TV Show", "Movie"]
    frame["release_year"] = [2001, 2002, 2003, 2004]
    for column, values in overrides.items():
        frame[column] = values
    return frame


def test_validate_titles_names_the_missing_columns():
    with pytest.raises(
        nodes.RawTitlesError, match=r"missing column\(s\) \['description'\]"
    ):
        nodes.validate_titles(_titles().drop(columns=["cast", "description"]), MOVIES)


def test_taking_in_titles_records_the_file_the_dataset_read(tmp_path: Path):
    from netflix_dec.catalogue import CatalogueDataset

    path = tmp_path / "ours.csv"
    _titles().to_csv(path, index=False)
    raw = CatalogueDataset(filepath=str(path)).load()

    validated, source = nodes.take_in_titles(raw, MOVIES)

    assert source == {"path": str(path), "rows": 4, "columns": list(_titles())}
    pd.testing.assert_frame_equal(validated, nodes.validate_titles(raw, MOVIES))
    # A table from a dataset that does not say its file (a plain CSVDataset).
    assert nodes.take_in_titles(_titles(), MOVIES)[1]["path"] is None


def test_validate_titles_rejects_a_table_without_rows():
    with pytest.raises(nodes.RawTitlesError, match="no rows"):
        nodes.validate_titles(_titles().iloc[0:0], MOVIES)


def test_validate_titles_keeps_the_kaggle_columns_in_order():
    shuffled = _titles().assign(extra=1)[["extra", *reversed(COLUMNS)]]
    assert list(nodes.validate_titles(shuffled, MOVIES).columns) == list(COLUMNS)


def test_validate_titles_leaves_absent_optional_columns_absent():
    validated = nodes.validate_titles(
        _titles().drop(columns=["cast", "rating"]), MOVIES
    )
    assert list(validated.columns) == [
        c for c in COLUMNS if c not in ("cast", "rating")
    ]


NOTEBOOK = DataProcessingParams(
    types=["Movie"],
    top_n=5,
    required_columns=[column for column in COLUMNS if column != "director"],
)


def test_clean_titles_with_the_notebooks_rule_follows_its_steps():
    titles = _titles(director=[np.nan, "Ann", "Bo", "Cy"], cast=["a", "b", "c", np.nan])
    titles = pd.concat([titles, titles.iloc[[1]]], ignore_index=True)  # a duplicate row
    cleaned, report = nodes.clean_titles(titles, NOTEBOOK)
    assert report["rows"] == {
        "raw": 5,
        "after_required_columns": 4,
        "after_drop_duplicates": 3,
        "after_type_filter": 2,
    }
    assert report["missing_required_by_column"]["cast"] == 1
    assert cleaned["show_id"].tolist() == ["s0", "s1"]
    assert cleaned.loc[0, "director"] == "No Data"


def test_clean_titles_by_default_fills_optional_columns_and_drops_blank_descriptions():
    titles = _titles(
        director=[np.nan, "Ann", "Bo", "Cy"],
        cast=[np.nan, "b", "c", np.nan],
        country=["  ", np.nan, "c", "d"],
        description=["a", "b", "c", " \t "],
    )
    cleaned, report = nodes.clean_titles(titles, MOVIES)
    assert cleaned["show_id"].tolist() == ["s0", "s1"]
    assert cleaned["director"].tolist() == ["No Data", "Ann"]
    assert cleaned["cast"].tolist() == ["Unknown", "b"]
    assert cleaned["country"].tolist() == ["Unknown", "Unknown"]
    assert report["removed"] == {
        "missing_required": 1,
        "duplicates": 0,
        "other_types": 1,
    }
    assert report["missing_required_by_column"]["description"] == 1


def test_clean_titles_keeps_every_listed_type():
    cleaned, _ = nodes.clean_titles(
        _titles(), DataProcessingParams(types=["Movie", "TV Show"], top_n=5)
    )
    assert len(cleaned) == 4


def test_clean_titles_fails_when_no_title_has_the_selected_type():
    with pytest.raises(
        nodes.RawTitlesError,
        match=r"table has no title whose type is in \['Documentary'\]",
    ):
        nodes.clean_titles(
            _titles(), DataProcessingParams(types=["Documentary"], top_n=5)
        )


def test_clean_titles_rejects_one_id_for_two_different_titles():
    titles = _titles(show_id=["s1", "s1", "s2", "s3"])
    with pytest.raises(
        nodes.RawTitlesError, match=r"show_id must identify one title.*'s1'"
    ):
        nodes.clean_titles(titles, MOVIES)


def test_profile_reports_counts_missing_values_and_samples():
    titles = _titles(country=["x", np.nan, "y", "z"])
    titles.loc[0, "release_year"] = np.nan
    cleaned, report = nodes.clean_titles(titles, MOVIES)
    profile = nodes.profile_titles(titles, cleaned, report)
    assert profile["rows"] == report["rows"]
    assert profile["cleaning"]["filled"] == {"country": 1}
    assert profile["missing_values"]["country"] == 1
    assert profile["titles_per_type"]["raw"] == {"Movie": 3, "TV Show": 1}
    assert len(profile["sample_rows"]) == len(cleaned) == 3
    assert profile["sample_rows"][0]["release_year"] is None
    json.dumps(profile)  # a missing year must not break the JSON


def test_profile_sample_holds_five_rows(sample_titles):
    cleaned, counts = nodes.clean_titles(sample_titles, MOVIES)
    assert len(nodes.profile_titles(sample_titles, cleaned, counts)["sample_rows"]) == 5


def test_top_genres_plot_counts_each_genre_once_per_title(sample_titles):
    figure = nodes.plot_top_genres(sample_titles, MOVIES)
    assert isinstance(figure, Figure)
    axis = figure.axes[0]
    labels = [label.get_text() for label in axis.get_yticklabels()]
    widths = [patch.get_width() for patch in axis.patches]
    genres = sample_titles["listed_in"].str.split(", ").explode().value_counts()
    assert labels == genres.index[:5].tolist()
    assert widths == genres.to_numpy()[:5].tolist()


@pytest.mark.parametrize(
    "plot",
    [
        nodes.plot_titles_per_type,
        nodes.plot_titles_added_per_year,
        nodes.plot_ratings,
        nodes.plot_description_length,
    ],
)
def test_plots_have_a_title_and_labelled_axes(plot, sample_titles):
    axis = plot(sample_titles).axes[0]
    assert axis.get_title()
    assert axis.get_xlabel()


def test_titles_added_per_year_sums_to_the_dated_titles(sample_titles):
    axis = nodes.plot_titles_added_per_year(sample_titles).axes[0]
    total = sum(patch.get_height() for patch in axis.patches)
    assert total == sample_titles["date_added"].notna().sum()


# ---- plots never stop a run on legitimate data --------------------------------


def test_dates_in_kaggle_iso_and_year_only_forms_are_read():
    parsed = nodes.parse_dates(
        pd.Series(
            ["March 30, 2021", "  March 30, 2021", "2020-01-05", "2019", None, "soon"]
        )
    )
    assert parsed.dt.year.tolist()[:4] == [2021, 2021, 2020, 2019]
    assert parsed.iloc[1] == pd.Timestamp("2021-03-30")
    assert parsed.iloc[4:].isna().all()


def test_dates_in_another_catalogues_forms_are_read_and_nonsense_is_not():
    parsed = nodes.parse_dates(
        pd.Series(["2021/03/15", "15.03.2021", "March 2021", "1st", "soon"])
    )
    assert parsed.iloc[:3].tolist() == [
        pd.Timestamp("2021-03-15"),
        pd.Timestamp("2021-03-15"),
        pd.Timestamp("2021-03-01"),
    ]
    assert parsed.iloc[3:].isna().all()  # "1st" would read as year 1


def test_titles_added_per_year_counts_every_readable_date():
    titles = _titles(date_added=[" March 30, 2021", "2021-05-01", "2019", "no idea"])
    axis = nodes.plot_titles_added_per_year(titles).axes[0]
    assert sum(patch.get_height() for patch in axis.patches) == 3
    assert "1 unreadable" in axis.get_title()


def _says_no_data(figure: Figure) -> bool:
    return any(text.get_text().startswith("No data") for text in figure.axes[0].texts)


@pytest.mark.parametrize(
    ("plot", "column"),
    [
        (nodes.plot_titles_added_per_year, "date_added"),
        (lambda t: nodes.plot_top_countries(t, MOVIES), "country"),
        (lambda t: nodes.plot_top_genres(t, MOVIES), "listed_in"),
        (nodes.plot_ratings, "rating"),
    ],
)
@pytest.mark.parametrize("empty", [np.nan, "Unknown", "   "])
def test_an_empty_column_gives_a_figure_that_says_no_data(
    plot, column, empty, tmp_path: Path
):
    figure = plot(_titles(**{column: [empty] * 4}))
    assert _says_no_data(figure)
    assert "Top 0" not in figure.axes[0].get_title()
    figure.savefig(tmp_path / "plot.png")  # and it draws


def test_dollar_signs_are_drawn_literally_and_a_malformed_one_draws(tmp_path: Path):
    genres = ["Costs $5 to $10", r"Bad $\frac{ maths", "Plain"]
    figure = nodes.plot_top_genres(_titles(listed_in=[*genres, "Plain"]), MOVIES)
    figure.savefig(tmp_path / "genres.png")  # mathtext would raise here
    shown = [
        label._preprocess_math(label.get_text())
        for label in figure.axes[0].get_yticklabels()
    ]
    assert sorted(shown) == sorted([(g, False) for g in genres])
