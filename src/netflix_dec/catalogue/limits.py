"""Limits that depend on the data, checked before any output is written.

A catalogue whose clean titles are too few for the clusters, the map or the
silhouette sample asked for is refused, saying which parameter to change.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .cleaning import describe_cleaning
from .schema import RawTitlesError

# ---- limits that depend on the data, checked before any output is written ------


def check_titles_left(
    cleaned: pd.DataFrame,
    report: dict[str, Any] | None,
    source: str,
    *,
    n_clusters: int | None = None,
    perplexity: float | None = None,
    max_points: int | None = None,
) -> None:
    """Refuse a run whose clean titles cannot give the outputs it asks for.

    The run-start hook calls this with the titles the cleaning will keep, so
    a catalogue that cannot be clustered fails in a second, before anything
    is written, instead of after a dozen outputs were overwritten.

    Args:
        cleaned: The titles the cleaning keeps.
        report: The cleaning report (``None`` when the run starts from the
            already cleaned table).
        source: The file the titles come from, for the message.
        n_clusters: ``dec_clustering.n_clusters`` when the run clusters.
        perplexity: ``visualization.perplexity`` when the run projects.
        max_points: ``visualization.max_points`` when the run projects.

    Raises:
        RawTitlesError: Naming the counts, the rule that removed most rows
            and the parameter to change.
    """
    how = f" {describe_cleaning(report)}" if report else ""
    after = "after cleaning" if report else "in the cleaned table"
    count = len(cleaned)
    if count == 0:
        raise RawTitlesError(
            f"No title of {source} is left {after}.{how}{_change(report)}"
        )
    if count == 1:
        raise RawTitlesError(
            f"Only 1 title of {source} is left {after}; clustering needs at least "
            f"2.{how}{_change(report)}"
        )
    descriptions = cleaned["description"].astype(str).str.strip()
    if not descriptions.str.contains(r"\w", regex=True).any():
        raise RawTitlesError(
            f"None of the {count:,} descriptions of {source} {after} holds a word "
            "(only punctuation or symbols): there is nothing to encode."
        )
    distinct = descriptions.str.lower().nunique()
    if distinct == 1:
        raise RawTitlesError(
            f"All {count:,} descriptions of {source} {after} are the same "
            f"({descriptions.iloc[0][:60]!r}): nothing tells the titles apart. "
            "Check the description column."
        )
    if n_clusters is not None and distinct < n_clusters:
        raise RawTitlesError(
            f"dec_clustering.n_clusters is {n_clusters}, but {source} has only "
            f"{distinct:,} distinct descriptions among {count:,} titles {after}."
            f"{how} Set dec_clustering.n_clusters to at most {distinct} "
            f"(--params dec_clustering.n_clusters={min(distinct, 2 + distinct // 10)})"
            " or keep more titles."
        )
    if perplexity is not None:
        points = min(count, max_points or count)
        if points <= perplexity:
            raise RawTitlesError(
                f"visualization.perplexity is {perplexity:g}, but t-SNE places only "
                f"{points:,} titles of {source} and needs more titles than its "
                f"perplexity.{how} Set visualization.perplexity below {points}."
            )


def _change(report: dict[str, Any] | None) -> str:
    """Which parameter to change so that more titles are kept."""
    most = report and report["removed_most"]
    if most and most["parameter"]:
        return f" To keep more titles, change {most['parameter']}."
    return ""
