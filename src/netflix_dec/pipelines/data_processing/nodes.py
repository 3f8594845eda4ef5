"""Validate, clean and explore the raw catalogue (the notebook's steps 1 and 2)."""

from __future__ import annotations

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
)
from netflix_dec.params import DataProcessingParams  # noqa: E402

logger = logging.getLogger(__name__)

NO_DIRECTOR = "No Data"  # the notebook's filler for a missing director


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
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Clean as the notebook does, counting the rows each step keeps.

    The order matters for parity with the notebook's 5,277 movies: fill the
    director, drop rows missing anything else, drop duplicate rows, then keep
    the selected types.

    Returns:
        The cleaned titles, keyed by a unique ``show_id``, and the row count
        after each step.
    """
    counts = {"raw": len(titles)}
    cleaned = titles.assign(director=titles["director"].fillna(NO_DIRECTOR))
    cleaned = cleaned.dropna()
    counts["after_dropna"] = len(cleaned)
    cleaned = cleaned.drop_duplicates()
    counts["after_drop_duplicates"] = len(cleaned)
    check_types(cleaned["type"], params.types, source="The cleaned titles table")
    cleaned = cleaned.loc[cleaned["type"].isin(params.types)]
    counts["after_type_filter"] = len(cleaned)
    duplicated = cleaned[KEY][cleaned[KEY].duplicated()].unique().tolist()
    if duplicated:
        raise RawTitlesError(
            f"{KEY} must identify one title, but these ids have different rows: "
            f"{duplicated[:10]}"
        )
    logger.info(
        "Kept %d of %d titles of type %s.", len(cleaned), len(titles), params.types
    )
    return cleaned.reset_index(drop=True), counts


def profile_titles(
    titles: pd.DataFrame, cleaned: pd.DataFrame, counts: dict[str, int]
) -> dict[str, Any]:
    """A JSON-ready profile: what the cleaning did and what the data looks like."""
    return {
        "rows": counts,
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
        "sample_rows": cleaned.head(5).to_dict(orient="records"),
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
