"""Validate, clean and explore the raw catalogue (the notebook's steps 1 and 2)."""

from __future__ import annotations

import json
import logging
from typing import Any

import matplotlib

matplotlib.use("Agg")  # nodes draw to files, never to a screen

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from netflix_dec.catalogue import (  # noqa: E402
    KEY,
    NOT_IN_CATALOGUE,
    SOURCE_ATTR,
    UNKNOWN,
    RawTitlesError,
    check_types,
    clean_catalogue,
    describe_cleaning,
    to_project_columns,
)
from netflix_dec.params import DataProcessingParams  # noqa: E402

logger = logging.getLogger(__name__)


def validate_titles(titles: pd.DataFrame, params: DataProcessingParams) -> pd.DataFrame:
    """Check the loaded table: a title and a description column, and a row.

    The file's columns are found through ``data_processing.columns`` (see
    :func:`netflix_dec.catalogue.resolve_columns`).

    Returns:
        The table under the project's column names, in the Kaggle order;
        a column the catalogue does not have stays absent.
    """
    validated = to_project_columns(titles, params.columns, "The raw titles table")
    if validated.empty:
        raise RawTitlesError("The raw titles table has a header but no rows.")
    return validated


def take_in_titles(
    titles: pd.DataFrame, params: DataProcessingParams
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`validate_titles`, and a record of which file the table came from.

    The report names its input. Only the dataset that read the file knows
    which it was (the project's ``CatalogueDataset`` puts it in the table's
    ``attrs``), and the validated table is saved as CSV, which keeps no
    ``attrs``: so it is recorded here, as the file is read.

    Returns:
        ``(validated titles, {"path": file or None, "rows", "columns"})``;
        the path is None for a dataset class that does not say it.
    """
    source = {
        "path": titles.attrs.get(SOURCE_ATTR),
        "rows": len(titles),
        "columns": [str(column) for column in titles.columns],
    }
    return validate_titles(titles, params), source


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
    if "type" in titles:
        check_types(titles["type"], params.types, source="The raw titles table")
    else:
        logger.info(
            "No type column: every title is kept (data_processing.types unused)."
        )
    cleaned, report = clean_catalogue(titles, params.types, params.required_columns)
    if KEY not in titles:
        logger.info(
            "No %s column: each title's id is made from its title and description "
            "(the same on every run).",
            KEY,
        )
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
    """A JSON-ready profile: what the cleaning did and what the data looks like.

    ``absent_columns`` lists the optional columns this catalogue does not
    have (absent from ``clean_titles`` too); ``titles_per_type`` is null
    without a ``type`` column.
    """
    return {
        "rows": report["rows"],
        "cleaning": {key: value for key, value in report.items() if key != "rows"},
        "columns": list(titles.columns),
        "absent_columns": report.get("absent_columns", []),
        "missing_values": {k: int(v) for k, v in titles.isna().sum().items()},
        "duplicate_rows": int(titles.duplicated().sum()),
        "titles_per_type": {
            "raw": {k: int(v) for k, v in titles["type"].value_counts().items()},
            "cleaned": {k: int(v) for k, v in cleaned["type"].value_counts().items()},
        }
        if "type" in titles and "type" in cleaned
        else None,
        "description_length": {
            k: round(float(v), 1)
            for k, v in cleaned["description"].str.len().describe().items()
        },
        # Through JSON, so that a missing year is null rather than pd.NA.
        "sample_rows": json.loads(cleaned.head(5).to_json(orient="records")),
    }


def _split_list(values: pd.Series) -> pd.Series:
    """Explode comma-separated cells (genres, countries) into one value per row.

    The cleaning's filler ("Unknown") is not a value: a catalogue whose
    countries are mostly empty plots the countries it has.
    """
    items = values.dropna().astype(str).str.split(",").explode().str.strip()
    return items.loc[(items != "") & (items != UNKNOWN)]


def _literal(labels: pd.Index | list[str]) -> list[str]:
    """Labels drawn as written: a ``$`` in a genre must not start mathtext."""
    return [str(label).replace("$", r"\$") for label in labels]


def _no_data_figure(title: str, reason: str) -> Figure:
    """A figure that says there is nothing to plot, instead of stopping the run."""
    fig, ax = plt.subplots(figsize=(9, 3), layout="constrained")
    ax.text(0.5, 0.5, f"No data: {_literal([reason])[0]}", ha="center", va="center")
    ax.set(title=title, xticks=[], yticks=[])
    logger.warning("%s: no data (%s); the figure says so.", title, reason)
    return fig


def _not_in_catalogue(title: str, column: str) -> Figure:
    """The figure of a column this catalogue does not have: it says so."""
    fig, ax = plt.subplots(figsize=(9, 3), layout="constrained")
    ax.text(0.5, 0.5, f"{column}: {NOT_IN_CATALOGUE}", ha="center", va="center")
    ax.set(title=title, xticks=[], yticks=[])
    logger.info("%s: %s is %s; the figure says so.", title, column, NOT_IN_CATALOGUE)
    return fig


def _bar_figure(counts: pd.Series, title: str, xlabel: str, empty: str) -> Figure:
    """A horizontal bar chart: long labels such as genre names stay readable."""
    if counts.empty:
        return _no_data_figure(title, empty)
    import seaborn as sns  # here, so that `kedro viz` and `--help` do not load it

    height = max(3.0, 0.38 * len(counts) + 1.2)
    fig, ax = plt.subplots(figsize=(9, height), layout="constrained")
    labels = _literal(counts.index)
    sns.barplot(x=counts.to_numpy(), y=labels, ax=ax, color="#4C72B0")
    ax.bar_label(ax.containers[0], padding=3, fontsize=9)
    ax.set(title=title, xlabel=xlabel, ylabel="")
    ax.margins(x=0.12)
    return fig


def plot_titles_per_type(titles: pd.DataFrame) -> Figure:
    """Movies against TV shows in the whole catalogue, before cleaning."""
    if "type" not in titles:
        return _not_in_catalogue("Titles per type (raw catalogue)", "type")
    counts = titles["type"].value_counts()
    return _bar_figure(
        counts, "Titles per type (raw catalogue)", "Titles", "no title has a type"
    )


# Kaggle writes "September 25, 2021", some with a leading space; one fixed
# format parses 100,000 dates in milliseconds where "mixed" takes seconds, so
# the slower parsers only see what the faster ones left.
_DATE_FORMATS = ("%B %d, %Y", "ISO8601")
_YEARS = (1800, 2200)


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates as Kaggle writes them, ISO dates, bare years or other common forms.

    Returns:
        Timestamps; ``NaT`` where the value is missing or unreadable.
    """
    text = values.astype("string").str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for date_format in _DATE_FORMATS:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(
            text[todo], format=date_format, errors="coerce"
        ).astype("datetime64[ns]")
    years = text.str.fullmatch(r"\d{4}").fillna(False).astype(bool)
    todo = parsed.isna() & years
    parsed[todo] = pd.to_datetime(text[todo], format="%Y").astype("datetime64[ns]")
    # Another catalogue's own forms ("2021/03/15", "15.03.2021", "March 2021"):
    # dateutil, slow but only for what the fixed formats left; a year outside
    # _YEARS ("1st" reads as year 1) stays unreadable.
    todo = parsed.isna() & text.notna()
    if todo.any():
        other = pd.to_datetime(text[todo], format="mixed", errors="coerce")
        other = other.where(other.dt.year.between(*_YEARS))
        parsed[todo] = other.astype("datetime64[ns]")
    return parsed


def plot_titles_added_per_year(titles: pd.DataFrame) -> Figure:
    """When titles arrived on the service, per type."""
    title = "Titles added per year"
    if "date_added" not in titles:
        return _not_in_catalogue(title, "date_added")
    typed = "type" in titles
    if not typed:  # one bar per year
        titles = titles.assign(type="All titles")
    added = parse_dates(titles["date_added"])
    per_year = (
        titles.assign(year=added.dt.year)
        .dropna(subset=["year", "type"])
        .astype({"year": int})
        .groupby(["year", "type"])
        .size()
        .unstack(fill_value=0)
    )
    if per_year.empty:
        return _no_data_figure(title, "no readable date_added")
    per_year.columns = _literal(per_year.columns)
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    per_year.plot.bar(stacked=True, ax=ax, width=0.8, rot=45)
    unread = int((added.isna() & titles["date_added"].notna()).sum())
    missing = int(titles["date_added"].isna().sum())
    left_out = [
        f"{count:,} {what}"
        for count, what in ((missing, "without a date"), (unread, "unreadable"))
        if count
    ]
    ax.set(
        title=f"{title} ({', '.join(left_out)})" if left_out else title,
        xlabel="Year added",
        ylabel="Titles",
    )
    if typed:
        ax.legend(title="Type")
    else:
        ax.get_legend().remove()
    return fig


def plot_top_genres(titles: pd.DataFrame, params: DataProcessingParams) -> Figure:
    """The genres (``listed_in`` entries) of the kept titles, most common first."""
    if "listed_in" not in titles:
        return _not_in_catalogue("Genres of the kept titles", "listed_in")
    counts = _split_list(titles["listed_in"]).value_counts().head(params.top_n)
    return _bar_figure(
        counts,
        f"Top {len(counts)} genres of the kept titles"
        if len(counts)
        else "Genres of the kept titles",
        "Titles",
        "no kept title has a genre (listed_in)",
    )


def plot_top_countries(titles: pd.DataFrame, params: DataProcessingParams) -> Figure:
    """The production countries of the kept titles, most common first."""
    if "country" not in titles:
        return _not_in_catalogue("Countries of the kept titles", "country")
    counts = _split_list(titles["country"]).value_counts().head(params.top_n)
    return _bar_figure(
        counts,
        f"Top {len(counts)} countries of the kept titles"
        if len(counts)
        else "Countries of the kept titles",
        "Titles",
        "no kept title has a country",
    )


def plot_ratings(titles: pd.DataFrame) -> Figure:
    """Audience ratings of the kept titles, most common first."""
    if "rating" not in titles:
        return _not_in_catalogue("Ratings of the kept titles", "rating")
    ratings = titles["rating"].dropna().astype(str).str.strip()
    counts = ratings.loc[(ratings != "") & (ratings != UNKNOWN)].value_counts()
    return _bar_figure(
        counts, "Ratings of the kept titles", "Titles", "no kept title has a rating"
    )


def plot_description_length(titles: pd.DataFrame) -> Figure:
    """Description lengths, which bound what a text model can learn per title."""
    title = "Description length of the kept titles"
    lengths = titles["description"].dropna().astype(str).str.len()
    if lengths.empty:
        return _no_data_figure(title, "no kept title has a description")
    import seaborn as sns

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
    ax.set(title=title, xlabel="Characters", ylabel="Titles")
    return fig
