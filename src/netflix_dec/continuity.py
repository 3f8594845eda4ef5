"""Clusters that survive the next run: numbers, names and what changed.

A plain library module (no Kedro). A training run that follows a previous one
(``dec_clustering.continuity: previous``) starts from the previous clusters:
each previous cluster's centroid is recomputed, in the current run's
clustering space, from its titles that are still in the catalogue (matched by
``show_id``), and k-means++ adds any extra centroids (:func:`start_centroids`).
After training, the final clusters are matched one-to-one to the previous ones
on the titles they share (Hungarian assignment on the overlap table,
:func:`follow`): a cluster that is still there keeps its number, a new cluster
gets a number never used before, and a number that is not kept is retired for
good. What is stored between runs is an *identity record* (:func:`identity`):
the number of each of the model's clusters (its soft-assignment columns), the
number registry and every title's number.

Names are keyed by number: a user's names file (cluster → name) overrides the
generated names (:func:`netflix_dec.naming.apply_names`), so after a retrain a
name follows its cluster's number, and a name whose number is gone is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

FORMAT = 1
"""Version of the identity record's layout."""

KEEP_SHARE = 0.5
"""A previous cluster and its Hungarian match share a number only when their
shared titles are at least this share of the smaller of the two (the previous
cluster's titles still in the catalogue, the current cluster's titles): most
of one is in the other."""

SPLIT_SHARE = 0.25
"""A previous cluster split when at least this share of its titles went to
each of two or more current clusters."""

MERGE_SHARE = 0.5
"""Two or more previous clusters merged when most (this share) of each went
to the same current cluster."""

# ---- the identity record -------------------------------------------------------------


def identity(
    show_ids: Sequence[Any],
    slot_labels: np.ndarray,
    numbers: Sequence[int],
    retired: Sequence[int] = (),
    next_number: int | None = None,
    followed: bool = False,
) -> dict[str, Any]:
    """The identity record of one run: what the next run follows.

    Args:
        show_ids: Each clustered title's ``show_id``, in the run's order.
        slot_labels: Each title's cluster as the model numbers its outputs
            (soft-assignment column, ``0 .. n - 1``).
        numbers: The cluster number of each model output (soft-assignment column).
        retired: Every number retired so far: never given again.
        next_number: The smallest number never used (default: one past the
            largest used or retired).
        followed: Whether this run followed a previous one.
    """
    numbers = [int(n) for n in numbers]
    retired = sorted({int(n) for n in retired})
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"cluster numbers must be distinct, got {numbers}")
    if set(numbers) & set(retired):
        raise ValueError(
            f"numbers {sorted(set(numbers) & set(retired))} are retired and cannot be reused"
        )
    used = max([*numbers, *retired], default=-1) + 1
    labels = np.asarray(slot_labels, dtype=np.int64)
    return {
        "format": FORMAT,
        "followed": bool(followed),
        "numbers": numbers,
        "retired": retired,
        "next_number": max(int(next_number or 0), used),
        "titles": {
            "show_id": [str(s) for s in show_ids],
            "cluster": [numbers[s] for s in labels.tolist()],
        },
    }


def fresh(show_ids: Sequence[Any], slot_labels: np.ndarray, n_slots: int) -> dict:
    """The identity of a run that follows nothing: cluster numbers 0 .. n - 1."""
    return identity(show_ids, slot_labels, range(n_slots))


def check_identity(record: Any, source: str = "previous_cluster_identities") -> dict:
    """``record`` if it is an identity record, else a clear error naming ``source``."""
    keys = {"numbers", "retired", "next_number", "titles"}
    if not isinstance(record, dict) or not keys <= set(record):
        raise ValueError(
            f"{source} is not a cluster identity record (expected the keys "
            f"{sorted(keys)}); start fresh with dec_clustering.continuity=fresh or "
            "name another version with --load-versions."
        )
    titles = record["titles"]
    if len(titles.get("show_id", [])) != len(titles.get("cluster", [])):
        raise ValueError(
            f"{source}: titles.show_id and titles.cluster differ in length"
        )
    return record


def previous_numbers(show_ids: Sequence[Any], previous: dict | None) -> np.ndarray:
    """Each current title's number in the previous run, or -1 if it was not in it."""
    if previous is None:
        return np.full(len(show_ids), -1, dtype=np.int64)
    before = pd.Series(
        previous["titles"]["cluster"],
        index=pd.Index([str(s) for s in previous["titles"]["show_id"]]),
        dtype="int64",
    )
    before = before[~before.index.duplicated()]
    found = before.reindex([str(s) for s in show_ids])
    return found.fillna(-1).to_numpy(dtype=np.int64)


# ---- the start: previous centroids in the current space -----------------------------


def start_centroids(
    embedding: np.ndarray, before: np.ndarray, n_clusters: int, seed: int
) -> np.ndarray:
    """Centroids to start the clustering from: the previous clusters', then k-means++.

    Each previous cluster with titles still in the catalogue gets the mean of
    those titles' rows of ``embedding`` (the current run's clustering space);
    when there are more than ``n_clusters`` of them, the largest are kept.
    Missing centroids are drawn as k-means++ draws them (each with probability
    proportional to its squared distance from the nearest centroid so far,
    best of ``2 + log k`` candidates), so new themes get centroids of their own.

    Args:
        embedding: One row per current title, in the space clustered.
        before: Each title's previous number, -1 for titles new to this run.
        n_clusters: How many centroids to return.
        seed: Seed of the k-means++ draws.

    Returns:
        The centroids, ``n_clusters`` rows: the previous clusters' first (in
        the order of their numbers), then the k-means++ ones.
    """
    points = np.asarray(embedding, dtype=np.float64)
    known = before >= 0
    numbers, sizes = np.unique(before[known], return_counts=True)
    order = np.argsort(-sizes, kind="stable")[:n_clusters]
    origins = [int(numbers[i]) for i in sorted(order)]
    centroids = [points[before == n].mean(axis=0) for n in origins]
    rng = np.random.default_rng(seed)
    if centroids:
        nearest = ((points - centroids[0]) ** 2).sum(axis=1)
        for c in centroids[1:]:
            nearest = np.minimum(nearest, ((points - c) ** 2).sum(axis=1))
    else:
        first = points[rng.integers(len(points))]
        centroids = [first]
        nearest = ((points - first) ** 2).sum(axis=1)
    trials = 2 + int(np.log(n_clusters))
    while len(centroids) < n_clusters:
        total = nearest.sum()
        if total <= 0:  # every title sits on a centroid: any row will do
            candidates = rng.integers(len(points), size=trials)
        else:
            candidates = rng.choice(len(points), size=trials, p=nearest / total)
        distances = [
            np.minimum(nearest, ((points - points[c]) ** 2).sum(axis=1))
            for c in candidates
        ]
        best = int(np.argmin([d.sum() for d in distances]))
        centroids.append(points[candidates[best]])
        nearest = distances[best]
    return np.stack(centroids).astype(np.float32)


# ---- matching the final clusters to the previous ones ------------------------------


def overlap_table(
    before: np.ndarray, slot_labels: np.ndarray, numbers: Sequence[int], n_slots: int
) -> np.ndarray:
    """Titles shared by each previous cluster (rows, ``numbers``) and each slot."""
    index = {int(n): i for i, n in enumerate(numbers)}
    table = np.zeros((len(index), n_slots), dtype=np.int64)
    both = before >= 0
    rows = np.array([index.get(int(n), -1) for n in before[both]], dtype=np.int64)
    cols = np.asarray(slot_labels)[both]
    keep = rows >= 0
    np.add.at(table, (rows[keep], cols[keep]), 1)
    return table


def follow(
    previous: dict,
    show_ids: Sequence[Any],
    slot_labels: np.ndarray,
    n_slots: int,
) -> dict[str, Any]:
    """Number this run's clusters after the previous run's (its identity record).

    The overlap table counts the titles each previous cluster shares with each
    current cluster; the Hungarian assignment (scipy's
    ``linear_sum_assignment``) pairs them one-to-one so that as many titles as
    possible keep their number. A pair shares the number only when most of one
    is in the other (:data:`KEEP_SHARE`); every other current cluster gets a
    number never used before, and every previous number not kept is retired.
    """
    from scipy.optimize import linear_sum_assignment

    before = previous_numbers(show_ids, previous)
    labels = np.asarray(slot_labels, dtype=np.int64)
    prev_numbers = sorted(set(previous["numbers"]) | set(previous["titles"]["cluster"]))
    table = overlap_table(before, labels, prev_numbers, n_slots)
    # A previous cluster counts its titles still here; a current one all its
    # titles, new ones too: a cluster of mostly new titles is a new cluster.
    prev_sizes = table.sum(axis=1)
    slot_sizes = np.bincount(labels, minlength=n_slots)
    numbers: list[int | None] = [None] * n_slots
    if table.size:
        rows, cols = linear_sum_assignment(-table)
        for r, c in zip(rows, cols, strict=True):
            shared = table[r, c]
            if shared > 0 and shared >= KEEP_SHARE * min(prev_sizes[r], slot_sizes[c]):
                numbers[c] = prev_numbers[r]
    kept = {n for n in numbers if n is not None}
    retired = set(previous["retired"]) | (set(prev_numbers) - kept)
    next_number = max(
        [
            int(previous["next_number"]),
            *(n + 1 for n in prev_numbers),
            *(n + 1 for n in retired),
        ]
    )
    # New numbers in order of size, the largest new cluster first.
    for slot in sorted(
        (s for s in range(n_slots) if numbers[s] is None),
        key=lambda s: -int(np.sum(labels == s)),
    ):
        numbers[slot] = next_number
        next_number += 1
    return identity(
        show_ids, labels, numbers, sorted(retired), next_number, followed=True
    )


# ---- what changed -------------------------------------------------------------------


def _shares(counts: pd.Series) -> dict[str, float]:
    total = counts.sum()
    return {str(int(k)): round(float(v / total), 4) for k, v in counts.items() if v}


def change_report(
    previous: dict | None,
    current: dict,
    names: dict[int, str] | None = None,
    user_names: dict[int, str] | None = None,
    mode: str = "previous",
) -> dict[str, Any]:
    """What changed since the previous run, per cluster and per title.

    Per previous cluster: how many of its titles are still in the catalogue,
    the share of those still in the cluster with its number, where the rest
    went, and whether it was kept, split or retired. Also the clusters that
    merged, the new numbers, the titles that changed cluster, user names
    whose cluster is gone and a one-sentence summary.
    """
    names = names or {}
    user_names = user_names or {}
    numbers = sorted(current["numbers"])
    gone_names = [
        {"cluster": int(n), "name": name}
        for n, name in sorted(user_names.items())
        if n not in numbers
    ]
    if previous is None or not current.get("followed"):
        why = (
            "dec_clustering.continuity is fresh: numbers start again from 0"
            if mode == "fresh"
            else "no previous run to follow: numbers start from 0"
        )
        summary = f"Started fresh ({why}); {len(numbers)} clusters."
        if gone_names:
            gone = ", ".join(f"{g['cluster']} ({g['name']})" for g in gone_names)
            summary += f" Named clusters not in this run: {gone}."
        return {
            "followed": False,
            "reason": why,
            "clusters_now": numbers,
            "names_of_gone_clusters": gone_names,
            "summary": summary,
        }
    now = pd.Series(
        current["titles"]["cluster"], index=current["titles"]["show_id"], dtype="int64"
    )
    then = pd.Series(
        previous["titles"]["cluster"],
        index=[str(s) for s in previous["titles"]["show_id"]],
        dtype="int64",
    )
    then = then[~then.index.duplicated()]
    common = then.index.intersection(now.index)
    moved = common[then[common].to_numpy() != now[common].to_numpy()]
    cross = pd.crosstab(then[common], now[common]) if len(common) else pd.DataFrame()
    prev_numbers = sorted(set(previous["numbers"]) | set(then.unique().tolist()))
    kept = [n for n in prev_numbers if n in numbers]
    retired = [n for n in prev_numbers if n not in numbers]
    new = [n for n in numbers if n not in prev_numbers]
    merged = []
    for target in cross.columns if len(cross) else []:
        column = cross[target]
        sources = [
            int(p) for p in cross.index if column[p] >= MERGE_SHARE * cross.loc[p].sum()
        ]
        if len(sources) >= 2:
            merged.append({"into": int(target), "from": sources})
    merged_into = {p: m["into"] for m in merged for p in m["from"] if p != m["into"]}
    per_cluster, split = [], []
    for p in prev_numbers:
        row = cross.loc[p] if len(cross) and p in cross.index else pd.Series(dtype=int)
        row = row[row > 0].sort_values(ascending=False)
        total = int(row.sum())
        removed = int((then == p).sum()) - total
        big = (
            [int(k) for k, v in row.items() if v >= SPLIT_SHARE * total]
            if total
            else []
        )
        status = "kept" if p in numbers else "retired"
        if len(big) >= 2:
            split.append({"cluster": int(p), "into": big})
            status = "split" if p in numbers else "retired (split)"
        if status == "retired":
            status = (
                f"retired (merged into {merged_into[p]})"
                if p in merged_into
                else "retired (its titles left the catalogue)"
                if total == 0
                else "retired (dissolved)"
            )
        per_cluster.append(
            {
                "cluster": int(p),
                "name": names.get(p) or user_names.get(p),
                "titles_before": int((then == p).sum()),
                "titles_still_in_catalogue": total,
                "titles_removed": removed,
                "still_in_it": round(float(row.get(p, 0) / total), 4) if total else 0.0,
                "went_to": _shares(row),
                "status": status,
            }
        )
    in_both = len(common)
    share = 1 - len(moved) / in_both if in_both else 0.0
    added = int(len(now.index.difference(then.index)))
    removed_titles = int(len(then.index.difference(now.index)))
    summary = (
        f"Followed the previous run: {len(kept)} of {len(prev_numbers)} clusters kept "
        f"their number and {100 * share:.1f}% of the {in_both:,} titles in both runs "
        f"kept theirs; {len(split)} split, {len(merged)} merged, {len(new)} new"
        f"{' (' + ', '.join(map(str, new)) + ')' if new else ''}, {len(retired)} retired"
        f"{' (' + ', '.join(map(str, retired)) + ')' if retired else ''}; "
        f"{added:,} titles added, {removed_titles:,} removed."
    )
    if gone_names:
        gone = ", ".join(f"{g['cluster']} ({g['name']})" for g in gone_names)
        summary += f" Named clusters not in this run: {gone}."

    return {
        "followed": True,
        "summary": summary,
        "titles": {
            "previous": int(len(then)),
            "current": int(len(now)),
            "in_both": int(in_both),
            "added": added,
            "removed": removed_titles,
            "kept_number": int(in_both - len(moved)),
            "changed_cluster": int(len(moved)),
            "share_kept": round(float(share), 4),
        },
        "kept": [int(n) for n in kept],
        "split": split,
        "merged": merged,
        "new": [int(n) for n in new],
        "retired": [int(n) for n in retired],
        "retired_ever": [int(n) for n in current["retired"]],
        "next_number": int(current["next_number"]),
        "clusters": per_cluster,
        "new_clusters": [
            {
                "cluster": int(n),
                "name": names.get(n),
                "titles": int((now == n).sum()),
                "came_from": _shares(cross[n]) if len(cross) and n in cross else {},
                "titles_new_to_the_catalogue": int(
                    (now[now.index.difference(then.index)] == n).sum()
                ),
            }
            for n in new
        ],
        "names_of_gone_clusters": gone_names,
        "moved_titles": {
            "show_id": [str(s) for s in moved],
            "from": [int(v) for v in then[moved]],
            "to": [int(v) for v in now[moved]],
        },
    }


def plot_changes(report: dict[str, Any], names: dict[int, str] | None = None) -> Any:
    """Previous clusters (rows) against current ones (columns), at a glance.

    Each cell is the share of a previous cluster's titles (those still in the
    catalogue) now in a current cluster; a cluster that kept its number is on
    the diagonal, outlined; new clusters are the last columns, retired ones
    the last rows.
    """
    from matplotlib.ticker import PercentFormatter

    from netflix_dec.lazy import pyplot

    plt = pyplot()
    names = names or {}
    fig, ax = plt.subplots(figsize=(12, 9), layout="constrained")
    if not report.get("followed"):
        ax.text(0.5, 0.5, report["summary"], ha="center", va="center", wrap=True)
        ax.set_axis_off()
        return fig
    rows = sorted(report["kept"]) + sorted(report["retired"])
    cols = sorted(report["kept"]) + sorted(report["new"])
    by_number = {c["cluster"]: c for c in report["clusters"]}
    grid = np.zeros((len(rows), len(cols)))
    for i, p in enumerate(rows):
        for target, share in by_number[p]["went_to"].items():
            if int(target) in cols:
                grid[i, cols.index(int(target))] = share
    image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    small = len(rows) * len(cols) <= 900
    for i in range(len(rows)):
        for j in range(len(cols)):
            if small and grid[i, j] >= 0.05:
                ax.text(
                    j,
                    i,
                    f"{100 * grid[i, j]:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if grid[i, j] > 0.6 else "black",
                )
    for k in range(len(report["kept"])):
        ax.add_patch(
            plt.Rectangle(
                (k - 0.5, k - 0.5), 1, 1, fill=False, edgecolor="#d62728", lw=1.2
            )
        )

    def short(n: int) -> str:
        text = names.get(n) or by_number.get(n, {}).get("name") or ""
        text = text if len(text) <= 34 else text[:33] + "…"
        return f"{n} · {text}" if text else str(n)

    def row_label(p: int) -> str:
        entry = by_number[p]
        if entry["status"].startswith("retired"):
            return f"{short(p)}  [{entry['status']}]"
        return (
            f"{short(p)}  [{entry['status']}, "
            f"{100 * entry['still_in_it']:.0f}% of {entry['titles_still_in_catalogue']:,} stayed]"
        )

    new_sizes = {c["cluster"]: c["titles"] for c in report.get("new_clusters", [])}
    ax.set_yticks(range(len(rows)), [row_label(p) for p in rows], fontsize=8)
    ax.set_xticks(
        range(len(cols)),
        [
            f"{short(c)} (new, {new_sizes.get(c, 0):,} titles)"
            if c in report["new"]
            else str(c)
            for c in cols
        ],
        fontsize=8,
        rotation=90,
    )
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_parse_math(False)
    if report["retired"]:
        ax.axhline(len(report["kept"]) - 0.5, color="#555", lw=1, ls="--")
    if report["new"]:
        ax.axvline(len(report["kept"]) - 0.5, color="#555", lw=1, ls="--")
    ax.set_xlabel("Cluster in this run (new clusters right of the dashed line)")
    ax.set_ylabel("Cluster in the previous run (retired ones below the dashed line)")
    title = ax.set_title(_wrap(report["summary"], 130), fontsize=10)
    title.set_parse_math(False)
    bar = fig.colorbar(
        image, ax=ax, shrink=0.6, label="Share of the previous cluster's titles"
    )
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def moved_since(
    previous: pd.DataFrame | None, assigned: pd.DataFrame
) -> dict[str, Any]:
    """How many titles of a previous assign run are now in another cluster."""
    if previous is None or not {"show_id", "cluster"} <= set(previous.columns):
        return {"previous_assign": False}
    before = previous.drop_duplicates("show_id").set_index(
        previous.drop_duplicates("show_id")["show_id"].astype(str)
    )["cluster"]
    now = assigned.set_index(assigned["show_id"].astype(str))["cluster"]
    common = before.index.intersection(now.index)
    changed = common[before[common].to_numpy() != now[common].to_numpy()]
    return {
        "previous_assign": True,
        "titles_in_both": int(len(common)),
        "moved": int(len(changed)),
        "moved_show_ids": [str(s) for s in changed[:1000]],
    }
