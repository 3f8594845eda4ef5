"""What the clusters are called: generated names and the user's names file.

A plain library module (no Kedro). A cluster's generated name is its three
most distinctive words and the genre that tells it apart ("ghost, haunted,
inn · Horror Movies"). The words come from a class-based TF-IDF over the
descriptions, as BERTopic's ``ClassTfidfTransformer`` computes it: the
descriptions of a cluster are one document (:func:`class_word_counts`), a
word scores by its share of the cluster's words times an IDF over clusters
(:func:`class_tfidf`), and the top words are picked so that no word names many
clusters (:func:`distinct_top_words`). The genre is the most over-represented
specific genre (:func:`cluster_genre`). A user's names file (cluster number →
name) overrides generated names (:func:`apply_names`); every output reads a
cluster's shown name through :func:`cluster_names`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from netflix_dec.evaluation import BROAD_TAGS, genres_or_none, split_genres

logger = logging.getLogger(__name__)

NAME_COLUMNS = ("cluster", "name")
"""The columns of a names file (the user's and the generated one)."""

LABEL_WORDS = 3
"""Top words that name a cluster the summary gives no name (older summaries)."""

# Of a cluster's top three words, none may name more than this many clusters.
TOP_THREE_SHARE = 2


class NamesFileError(ValueError):
    """The cluster names file cannot be read as cluster → name."""


# ---- distinctive words: class-based TF-IDF -------------------------------------------


def class_word_counts(
    descriptions: pd.Series, clusters: np.ndarray, n_clusters: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Clusters × words: how many of each cluster's descriptions use each word.

    Each cluster's descriptions are one document; a word counts once per
    description. English stop words, numbers and words of one or two letters
    are left out, and words of a single description.

    Returns:
        The counts and the vocabulary, or None when no word survives (tiny
        or empty input).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(
        stop_words="english",
        min_df=2,
        binary=True,
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
    )
    try:
        counts = vectorizer.fit_transform(descriptions.fillna(""))
    except ValueError:  # no word survives (tiny or empty input)
        return None
    membership = sparse.csr_matrix(
        (np.ones(len(clusters)), (clusters, np.arange(len(clusters)))),
        shape=(n_clusters, len(clusters)),
    )
    per_cluster = np.asarray((membership @ counts).todense(), dtype=float)
    return per_cluster, vectorizer.get_feature_names_out()


def class_tfidf(per_cluster: np.ndarray) -> np.ndarray:
    """c-TF-IDF scores of :func:`class_word_counts`, words common to many down-weighted.

    A word scores by its share of the cluster's words times
    ``log(1 + A / f)``, ``A`` the average number of words per (non-empty)
    cluster and ``f`` the word's count in the whole catalogue (BERTopic's
    c-TF-IDF). Words that are over-represented in many clusters ("life",
    "woman") tell none apart; they are down-weighted by
    ``log(1 + K / k) / log(1 + K)`` for a word over-represented in ``k`` of
    ``K`` clusters.
    """
    sizes = per_cluster.sum(axis=1, keepdims=True)
    share = per_cluster / np.maximum(sizes, 1.0)
    in_use = np.count_nonzero(sizes)
    average_words = per_cluster.sum() / max(in_use, 1)
    totals = per_cluster.sum(axis=0)
    idf = np.log1p(average_words / np.maximum(totals, 1.0))
    overall = totals / max(per_cluster.sum(), 1.0)
    spread = np.maximum((share > overall).sum(axis=0), 1)
    common = np.log1p(in_use / spread) / np.log1p(max(in_use, 1))
    return share * idf * common


def distinct_top_words(scores: np.ndarray) -> dict[int, list[int]]:
    """Each cluster's words (columns of ``scores``), best first, top three shared little.

    No word may stand in more than ``TOP_THREE_SHARE`` clusters' top three:
    the best-scoring (cluster, word) pairs are placed first. Short of three
    words that name no more clusters, the list stays short rather than lead
    with words that tell nothing apart.
    """
    n_clusters = scores.shape[0]
    ranked = {
        cluster: [j for j in np.argsort(-scores[cluster]) if scores[cluster, j] > 0]
        for cluster in range(n_clusters)
    }
    # Top three first, best pairs first, each word in at most TOP_THREE_SHARE clusters.
    depth = 3 * TOP_THREE_SHARE + 3
    pairs = sorted(
        (
            (-scores[cluster, j], cluster, j)
            for cluster, words in ranked.items()
            for j in words[: depth * 4]
        ),
    )
    chosen: dict[int, list[int]] = {cluster: [] for cluster in range(n_clusters)}
    used: dict[int, int] = {}
    for _, cluster, j in pairs:
        if len(chosen[cluster]) < 3 and used.get(j, 0) < TOP_THREE_SHARE:
            chosen[cluster].append(j)
            used[j] = used.get(j, 0) + 1
    result = {}
    for cluster in range(n_clusters):
        order = sorted(chosen[cluster], key=lambda j: -scores[cluster, j])
        for j in ranked[cluster]:
            if len(order) >= 3:
                break
            if j not in order and used.get(j, 0) < TOP_THREE_SHARE:
                order.append(j)
                used[j] = used.get(j, 0) + 1
        # Short of three words that name no two other clusters, the list stays
        # short rather than lead with words that tell nothing apart.
        if len(order) == 3:
            order += [j for j in ranked[cluster] if j not in order]
        result[cluster] = order
    return result


def distinctive_words(
    descriptions: pd.Series, clusters: np.ndarray, n_clusters: int, top_words: int
) -> dict[int, list[str]]:
    """Each cluster's ``top_words`` most distinctive words by class-based TF-IDF.

    Counting (:func:`class_word_counts`), scoring (:func:`class_tfidf`) and
    picking (:func:`distinct_top_words`), as BERTopic separates them.
    """
    counted = class_word_counts(descriptions, clusters, n_clusters)
    if counted is None:
        return {cluster: [] for cluster in range(n_clusters)}
    per_cluster, vocabulary = counted
    picked = distinct_top_words(class_tfidf(per_cluster))
    return {
        cluster: [str(vocabulary[j]) for j in order[:top_words]]
        for cluster, order in picked.items()
    }


# ---- genre, name and summary -----------------------------------------------------------


# A genre names a cluster only if at least this share of its titles list it.
GENRE_SHARE = 0.2


def cluster_genre(counts: pd.Series, size: int, catalogue_share: pd.Series) -> str:
    """The genre that tells a cluster apart: common in it, rarer elsewhere.

    Of the specific genres (not broad tags such as "International Movies")
    that at least ``GENRE_SHARE`` of the cluster's titles list, the one most
    over-represented against the whole catalogue; else the commonest specific
    genre. "Dramas" is the commonest genre of half the clusters and names
    only those it is most typical of.
    """
    specific = counts[[genre not in BROAD_TAGS for genre in counts.index]]
    if specific.empty:
        return str(counts.index[0]) if len(counts) else ""
    frequent = specific[specific >= GENRE_SHARE * size]
    if frequent.empty:
        return str(specific.index[0])
    lift = (frequent / size) / catalogue_share.reindex(frequent.index)
    return str(lift.idxmax())


def cluster_name(words: list[str], genre: str) -> str:
    """A short legend name: three distinctive words and the cluster's genre."""
    name = ", ".join(words[:3])
    return f"{name} · {genre}" if name and genre else name or genre


def describe_clusters(
    titles: pd.DataFrame,
    clusters: pd.DataFrame,
    positions: np.ndarray,
    numbers: list[int],
    top_words: int,
    examples: int,
) -> list[dict[str, Any]]:
    """Per cluster: its generated name, size, distinctive words, genres, examples.

    Args:
        titles: The clustered titles (``description``; ``listed_in`` if any).
        clusters: One row per title, in the same order (``title``,
            ``confidence``).
        positions: Each title's cluster as a position in ``numbers``.
        numbers: The cluster numbers, in the order they are listed.
        top_words: Distinctive words kept per cluster.
        examples: Most confident titles listed per cluster.
    """
    by_position = distinctive_words(
        titles["description"], positions, len(numbers), top_words
    )
    words = {numbers[i]: w for i, w in by_position.items()}
    genres = split_genres(genres_or_none(titles))
    catalogue_share = genres.explode().dropna().value_counts() / max(len(titles), 1)
    summary = []
    for position, cluster in enumerate(numbers):
        members = np.flatnonzero(positions == position)
        best = clusters.iloc[members].sort_values("confidence", ascending=False)
        genre_counts = genres.iloc[members].explode().dropna().value_counts()
        summary.append(
            {
                "cluster": cluster,
                "name": cluster_name(
                    words[cluster],
                    cluster_genre(genre_counts, len(members), catalogue_share),
                ),
                "size": len(members),
                "top_words": words[cluster],
                "top_genres": {str(k): int(v) for k, v in genre_counts.head(5).items()},
                "examples": best["title"].head(examples).tolist(),
            }
        )
    return summary


def cluster_names(summary: dict[str, Any]) -> dict[int, str]:
    """Cluster number → the name every output shows.

    The summary's ``name`` (the user's or the generated one), else its first
    ``LABEL_WORDS`` top words (summaries written before clusters had names).
    """
    return {
        int(item["cluster"]): str(
            item.get("name") or ", ".join((item.get("top_words") or [])[:LABEL_WORDS])
        )
        for item in summary["clusters"]
    }


# ---- the names file -------------------------------------------------------------------


def read_names(
    frame: pd.DataFrame | None, source: str = "cluster_names"
) -> dict[int, str]:
    """Cluster number → name from a names file (``cluster``, ``name``); none if absent.

    Raises:
        NamesFileError: A column is missing, a cluster is not a whole number
            or repeats, or a name is blank; the message names ``source``.
    """
    if frame is None:
        return {}
    missing = [c for c in NAME_COLUMNS if c not in frame.columns]
    if missing:
        raise NamesFileError(
            f"{source} needs the columns {list(NAME_COLUMNS)}, is missing {missing} "
            f"(columns found: {list(frame.columns)}). Start from the generated "
            "data/08_reporting/cluster_names_generated.csv."
        )
    numbers = pd.to_numeric(frame["cluster"], errors="coerce")
    bad = frame.loc[numbers.isna() | (numbers % 1 != 0) | (numbers < 0), "cluster"]
    if len(bad):
        raise NamesFileError(
            f"{source}: cluster must be a cluster number (a whole number >= 0), got "
            f"{bad.astype(str).tolist()[:10]}."
        )
    repeated = numbers[numbers.duplicated()].astype(int).unique().tolist()
    if repeated:
        raise NamesFileError(f"{source}: cluster(s) {repeated} are named twice.")
    names = frame["name"].fillna("").astype(str).str.strip()
    blank = numbers[names == ""].astype(int).tolist()
    if blank:
        raise NamesFileError(
            f"{source}: cluster(s) {blank} have a blank name; give a name or drop the row."
        )
    return dict(zip(numbers.astype(int).tolist(), names.tolist(), strict=True))


def apply_names(summary: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    """The summary with the user's names over the generated ones, and what was unused.

    Each cluster keeps its generated name as ``generated_name``; ``name`` is
    the user's where one is given (``named_by: user``); user names of numbers
    not in this run go to ``names_of_gone_clusters``.
    """
    clusters = []
    present = set()
    for item in summary["clusters"]:
        number = int(item["cluster"])
        present.add(number)
        generated = item.get("generated_name", item.get("name", ""))
        given = names.get(number)
        clusters.append(
            item
            | {
                "name": given or generated,
                "generated_name": generated,
                "named_by": "user" if given else "generated",
            }
        )
    gone = [
        {"cluster": n, "name": name}
        for n, name in sorted(names.items())
        if n not in present
    ]
    if gone:
        logger.warning(
            "The cluster names file names %d cluster(s) not in this run (retired, "
            "or never used): %s. Their names are kept in the summary's "
            "names_of_gone_clusters; remove them from the file or give them to "
            "another cluster.",
            len(gone),
            ", ".join(f"{g['cluster']} ({g['name']})" for g in gone),
        )
    return summary | {"clusters": clusters, "names_of_gone_clusters": gone}


def names_table(summary: dict[str, Any], field: str = "generated_name") -> pd.DataFrame:
    """The names of a summary in the names file's format (``cluster``, ``name``)."""
    return pd.DataFrame(
        {
            "cluster": [int(c["cluster"]) for c in summary["clusters"]],
            "name": [c.get(field) or c.get("name") or "" for c in summary["clusters"]],
        },
        columns=list(NAME_COLUMNS),
    )
