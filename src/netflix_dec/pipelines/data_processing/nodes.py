"""Validate, clean and explore the raw catalogue (the notebook's steps 1 and 2)."""

from __future__ import annotations

import json
import logging
from typing import Any

import matplotlib

matplotlib.use("Agg")  # nodes draw to files, never to a screen

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from netflix_dec.catalogue import (  # noqa: E402
    COLUMNS,
    KEY,
    RawTitlesError,
    check_columns,
    check_types,
    clean_catalogue,
    describe_cleaning,
)
from netflix_dec.params import DataProcessingParams  # noqa: E402

logger = logging.getLogger(__name__)


def validate_titles(titles: pd.DataFrame) -> pd.DataFrame:
    """Check the loaded table: the 12 Kaggle columns and at least one row.

    Returns:
        The table restricted to the 12 columns, in the Kaggle order.
    """
    check_columns(titles.columns, source="The raw titles table")
    if titles.empty:
        raise RawTitlesError("The raw titles table has a header but no rows.")
    return titles.loc[:, list(COLUMNS)]


def clean_titles(
    titles: pd.DataFrame, params: DataProcessingParams
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Keep the titles of the selected types that have every required column.

    The rules live in :func:`netflix_dec.catalogue.clean_catalogue`, which the
    run-start check applies too, so that what it counts is what this keeps.

    Returns:
        The cleaned titles, keyed by a unique ``show_id``, and the cleaning
        report (rows after each rule, what each removed, what was filled).
    """
    check_types(titles["type"], params.types, source="The raw titles table")
    cleaned, report = clean_catalogue(titles, params.types, params.required_columns)
    logger.info(describe_cleaning(report))
    if report["filled"]:
        logger.info(
            "Filled missing values: %s.",
            ", ".join(f"{column} {n:,}" for column, n in report["filled"].items()),
        )
    if cleaned.empty:
        raise RawTitlesError(f"No title left to cluster. {describe_cleaning(report)}")
    duplicated = cleaned[KEY][cleaned[KEY].duplicated()].unique().tolist()
    if duplicated:
        raise RawTitlesError(
            f"{KEY} must identify one title, but these ids have different rows: "
            f"{duplicated[:10]}"
        )
    return cleaned, report


def profile_titles(
    titles: pd.DataFrame, cleaned: pd.DataFrame, report: dict[str, Any]
) -> dict[str, Any]:
    """A JSON-ready profile: what the cleaning did and what the data looks like."""
    return {
        "rows": report["rows"],
        "cleaning": {key: value for key, value in report.items() if key != "rows"},
        "columns": list(titles.columns),
        "missing_values": {k: int(v) for k, v in titles.isna().sum().items()},
        "duplicate_rows": int(titles.duplicated().sum()),
        "titles_per_type": {
            "raw": {k: int(v) for k, v in titles["type"].value_counts().items()},
            "cleaned": {k: int(v) for k, v in cleaned["type"].value_counts().items()},
        },
        "description_length": {
            k: round(float(v), 1)
            for k, v in cleaned["description"].str.len().describe().items()
        },
        # Through JSON, so that a missing year is null rather than pd.NA.
        "sample_rows": json.loads(cleaned.head(5).to_json(orient="records")),
    }


def _split_list(values: pd.Series) -> pd.Series:
    """Explode comma-separated cells (genres, countries) into one value per row."""
    return values.dropna().str.split(",").explode().str.strip().loc[lambda s: s != ""]


def _bar_figure(counts: pd.Series, title: str, xlabel: str) -> Figure:
    """A horizontal bar chart: long labels such as genre names stay readable."""
    height = max(3.0, 0.38 * len(counts) + 1.2)
    fig, ax = plt.subplots(figsize=(9, height), layout="constrained")
    sns.barplot(x=counts.to_numpy(), y=counts.index.astype(str), ax=ax, color="#4C72B0")
    ax.bar_label(ax.containers[0], padding=3, fontsize=9)
    ax.set(title=title, xlabel=xlabel, ylabel="")
    ax.margins(x=0.12)
    return fig


def plot_titles_per_type(titles: pd.DataFrame) -> Figure:
    """Movies against TV shows in the whole catalogue, before cleaning."""
    counts = titles["type"].value_counts()
    return _bar_figure(counts, "Titles per type (raw catalogue)", "Titles")


def plot_titles_added_per_year(titles: pd.DataFrame) -> Figure:
    """When titles arrived on the service, per type."""
    # Kaggle writes "September 25, 2021", some with a leading space; one fixed
    # format parses 100,000 dates in milliseconds where "mixed" takes seconds.
    added = pd.to_datetime(
        titles["date_added"].str.strip(), format="%B %d, %Y", errors="coerce"
    )
    per_year = (
        titles.assign(year=added.dt.year)
        .dropna(subset=["year"])
        .astype({"year": int})
        .groupby(["year", "type"])
        .size()
        .unstack(fill_value=0)
    )
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    per_year.plot.bar(stacked=True, ax=ax, width=0.8, rot=45)
    ax.set(title="Titles added per year", xlabel="Year added", ylabel="Titles")
    ax.legend(title="Type")
    return fig


def plot_top_genres(titles: pd.DataFrame, params: DataProcessingParams) -> Figure:
    """The genres (``listed_in`` entries) of the kept titles, most common first."""
    counts = _split_list(titles["listed_in"]).value_counts().head(params.top_n)
    return _bar_figure(counts, f"Top {len(counts)} genres of the kept titles", "Titles")


def plot_top_countries(titles: pd.DataFrame, params: DataProcessingParams) -> Figure:
    """The production countries of the kept titles, most common first."""
    counts = _split_list(titles["country"]).value_counts().head(params.top_n)
    return _bar_figure(
        counts, f"Top {len(counts)} countries of the kept titles", "Titles"
    )


def plot_ratings(titles: pd.DataFrame) -> Figure:
    """Audience ratings of the kept titles, most common first."""
    counts = titles["rating"].value_counts()
    return _bar_figure(counts, "Ratings of the kept titles", "Titles")


def plot_description_length(titles: pd.DataFrame) -> Figure:
    """Description lengths, which bound what a text model can learn per title."""
    lengths = titles["description"].str.len()
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    sns.histplot(lengths, bins=40, ax=ax, color="#4C72B0")
    ax.axvline(lengths.median(), color="#C44E52", linestyle="--")
    ax.annotate(
        f"median {lengths.median():.0f}",
        xy=(lengths.median(), 0.95),
        xycoords=("data", "axes fraction"),
        xytext=(6, 0),
        textcoords="offset points",
        color="#C44E52",
    )
    ax.set(
        title="Description length of the kept titles",
        xlabel="Characters",
        ylabel="Titles",
    )
    return fig
