"""Continuity as a library: start centroids, matching, the registry, names, reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog

from netflix_dec import continuity, naming
from netflix_dec.params import DecClusteringParams
from netflix_dec.pipelines.dec_clustering import nodes

IDS = [f"s{i}" for i in range(12)]


def _previous(labels: list[int], numbers=(0, 1, 2), retired=(), next_number=None):
    slots = {n: i for i, n in enumerate(numbers)}
    return continuity.identity(
        IDS[: len(labels)],
        np.array([slots[n] for n in labels]),
        numbers,
        retired,
        next_number,
    )


def test_clusters_still_there_keep_their_number_whatever_the_model_calls_them():
    previous = _previous([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    # The new model orders its clusters differently: slot 2 is old 0, and so on.
    slots = np.array([2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1])
    current = continuity.follow(previous, IDS, slots, 3)
    assert current["numbers"] == [1, 2, 0]
    assert current["titles"]["cluster"] == previous["titles"]["cluster"]
    assert current["retired"] == [] and current["next_number"] == 3


def test_a_new_cluster_gets_a_number_never_used_and_a_retired_one_stays_retired():
    # Number 3 was retired by an earlier run; 4 was given once and retired too.
    previous = _previous(
        [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], retired=(3, 4), next_number=5
    )
    # Old cluster 2 is gone (its titles left); two new clusters appear.
    ids = IDS[:8] + ["n1", "n2", "n3", "n4"]
    slots = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3])
    current = continuity.follow(previous, ids, slots, 4)
    assert current["numbers"][:2] == [0, 1]
    assert sorted(current["numbers"][2:]) == [5, 6]
    assert current["retired"] == [2, 3, 4]
    assert current["next_number"] == 7
    with pytest.raises(ValueError, match="retired and cannot be reused"):
        continuity.identity(ids, slots, [0, 1, 2, 5], retired=[2])


def test_a_cluster_that_shares_too_little_with_its_match_gets_a_new_number():
    previous = _previous([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    # Cluster 2's titles are scattered; new titles join the slot holding some.
    ids = IDS + [f"x{i}" for i in range(6)]
    slots = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 2, 2] + [2] * 6)
    current = continuity.follow(previous, ids, slots, 3)
    # Shared 2 of min(4 still here, 8 in the slot): half of cluster 2, kept.
    assert current["numbers"] == [0, 1, 2]
    # Shared 1 of min(4, 7): the slot is new titles around one of cluster 2's.
    slots = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 2] + [2] * 6)
    current = continuity.follow(previous, ids, slots, 3)
    assert current["numbers"] == [0, 1, 3] and current["retired"] == [2]


def test_start_centroids_are_the_previous_clusters_means_then_kmeans_plus_plus():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = np.concatenate([c + rng.normal(0, 0.1, (20, 2)) for c in centres])
    before = np.array([4] * 20 + [7] * 20 + [-1] * 20)  # the third group is new
    start = continuity.start_centroids(points, before, 3, seed=0)
    np.testing.assert_allclose(start[0], points[:20].mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(start[1], points[20:40].mean(axis=0), atol=1e-5)
    # k-means++ puts the extra centroid in the group no previous cluster covers.
    assert np.linalg.norm(start[2] - centres[2]) < 1.0
    # More previous clusters than wanted: the largest are kept.
    before = np.array([4] * 30 + [7] * 20 + [9] * 10)
    start = continuity.start_centroids(points, before, 2, seed=0)
    np.testing.assert_allclose(start[0], points[:30].mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(start[1], points[30:50].mean(axis=0), atol=1e-5)


def test_the_change_report_says_kept_split_merged_new_and_retired():
    # 0 splits into 0 and a new cluster; 1 and 2 merge into 1; 3 keeps.
    previous = continuity.identity(
        IDS, np.array([0] * 4 + [1] * 2 + [2] * 2 + [3] * 4), [0, 1, 2, 3]
    )
    current = continuity.follow(
        previous, IDS, np.array([0, 0, 2, 2, 1, 1, 1, 1, 3, 3, 3, 3]), 4
    )
    report = continuity.change_report(previous, current, user_names={2: "Ours"})
    assert report["kept"] == [0, 1, 3]
    assert report["retired"] == [2] and report["new"] == [4]
    assert report["split"] == [{"cluster": 0, "into": [0, 4]}]
    assert report["merged"] == [{"into": 1, "from": [1, 2]}]
    entry = {c["cluster"]: c for c in report["clusters"]}
    assert entry[2]["status"] == "retired (merged into 1)"
    assert entry[0]["still_in_it"] == 0.5 and entry[0]["went_to"] == {
        "0": 0.5,
        "4": 0.5,
    }
    assert report["titles"]["changed_cluster"] == 4
    assert sorted(report["moved_titles"]["show_id"]) == ["s2", "s3", "s6", "s7"]
    assert report["names_of_gone_clusters"] == [{"cluster": 2, "name": "Ours"}]
    assert "3 of 4 clusters kept their number" in report["summary"]
    figure = continuity.plot_changes(report)
    assert len(figure.axes[0].get_yticklabels()) == 4  # kept rows, then retired


def test_a_names_file_overrides_generated_names_and_reports_gone_ones(caplog):
    summary = {
        "clusters": [
            {"cluster": 0, "name": "ghost, inn"},
            {"cluster": 5, "name": "goal, striker"},
        ]
    }
    names = naming.read_names(
        pd.DataFrame({"cluster": [5, 9], "name": ["Football", "Old one"]})
    )
    named = naming.apply_names(summary, names)
    assert [c["name"] for c in named["clusters"]] == ["ghost, inn", "Football"]
    assert named["clusters"][1]["generated_name"] == "goal, striker"
    assert [c["named_by"] for c in named["clusters"]] == ["generated", "user"]
    assert named["names_of_gone_clusters"] == [{"cluster": 9, "name": "Old one"}]
    assert "9 (Old one)" in caplog.text
    table = naming.names_table(named)
    assert table.to_dict("list") == {
        "cluster": [0, 5],
        "name": ["ghost, inn", "goal, striker"],
    }
    assert naming.read_names(None) == {}


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"number": [1], "name": ["a"]}), "missing \\['cluster'\\]"),
        (pd.DataFrame({"cluster": ["x"], "name": ["a"]}), "whole number"),
        (pd.DataFrame({"cluster": [1, 1], "name": ["a", "b"]}), "named twice"),
        (pd.DataFrame({"cluster": [1], "name": [" "]}), "blank name"),
    ],
)
def test_a_bad_names_file_is_refused_naming_the_file(frame, message):
    with pytest.raises(naming.NamesFileError, match=message):
        naming.read_names(frame, "data/01_raw/cluster_names.csv")


def test_moved_since_counts_titles_of_the_previous_assign_in_another_cluster():
    before = pd.DataFrame({"show_id": ["a", "b", "c"], "cluster": [0, 1, 2]})
    now = pd.DataFrame({"show_id": ["a", "b", "d"], "cluster": [0, 7, 1]})
    moved = continuity.moved_since(before, now)
    assert (moved["titles_in_both"], moved["moved"]) == (2, 1)
    assert moved["moved_show_ids"] == ["b"]
    assert continuity.moved_since(None, now) == {"previous_assign": False}


def test_an_optional_input_loads_none_until_written_then_the_newest(tmp_path: Path):
    entry = {
        "type": "netflix_dec.datasets.OptionalDataset",
        "filepath": str(tmp_path / "ids.json"),
        "versioned": True,
        "dataset": {"type": "json.JSONDataset"},
    }
    writer = {**entry, "type": "netflix_dec.datasets.AtomicDataset"}
    catalog = DataCatalog.from_config({"previous": entry})
    assert catalog.exists("previous")  # the start-up check does not ask for it
    assert catalog.load("previous") is None
    for version, value in (
        ("2026-01-01T00.00.00.000Z", 1),
        ("2026-01-02T00.00.00.000Z", 2),
    ):
        DataCatalog.from_config({"ids": writer}, save_version=version).save(
            "ids", {"v": value}
        )
    assert DataCatalog.from_config({"previous": entry}).load("previous") == {"v": 2}
    with pytest.raises(Exception, match="does not save"):
        catalog.save("previous", {})


# ---- numbers that are not 0 .. k-1 downstream ----------------------------------------

TITLES = pd.DataFrame(
    {
        "show_id": ["s1", "s2", "s3", "s4"],
        "title": ["Ghost Hunt", "Haunted Inn", "Goal!", "Final Whistle"],
        "description": [
            "A ghost haunts the old inn",
            "The ghost of the inn haunts a family",
            "A striker scores the winning goal",
            "The striker and the team chase the goal",
        ],
        "listed_in": [
            "Horror Movies",
            "Horror Movies",
            "Sports Movies",
            "Sports Movies",
        ],
    }
)
Q = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]], dtype=np.float32)
IDENTITIES = continuity.identity(
    TITLES["show_id"], Q.argmax(axis=1), [3, 8], retired=[0, 1, 2]
)
PARAMS = DecClusteringParams(
    n_clusters=2,
    variant="dec",
    gamma=0.1,
    alpha=1.0,
    batch_size=8,
    maxiter=20,
    update_interval=10,
    tol=0.001,
    learning_rate=0.01,
    momentum=0.9,
    kmeans_n_init=1,
    guard="silhouette",
    silhouette_sample=1000,
    top_words=3,
    examples=2,
    seed=0,
)


def test_clusters_summary_and_metrics_use_the_numbers_not_the_columns():
    clusters = nodes.assign_clusters(TITLES, Q, IDENTITIES)
    assert clusters["cluster"].tolist() == [3, 3, 8, 8]
    names = pd.DataFrame({"cluster": [8], "name": ["Football"]})
    summary = nodes.summarize_clusters(TITLES, clusters, PARAMS, IDENTITIES, names)
    by_number = {c["cluster"]: c for c in summary["clusters"]}
    assert sorted(by_number) == [3, 8]
    assert by_number[3]["size"] == 2 and "ghost" in by_number[3]["top_words"]
    assert by_number[8]["name"] == "Football"
    assert "striker" in by_number[8]["generated_name"]
    points = np.array([[0, 0], [0, 0.1], [1, 1], [1, 1.1]], dtype=np.float32)
    metrics = nodes.evaluate_clustering(
        TITLES,
        clusters,
        np.array([0, 0, 1, 1]),
        points,
        points,
        {"iterations": 0, "stop_reason": "tol"},
        PARAMS,
        IDENTITIES,
    )
    assert metrics["dec"]["moved"] == 0.0  # start columns mapped to the same numbers
    assert metrics["final"]["nmi"] == pytest.approx(1.0)
    calibration = nodes.calibrate_novelty(
        Q, {"features": "tfidf", "max_words": 10, "vocabulary": {}}, IDENTITIES
    )
    assert calibration["cluster_numbers"] == [3, 8]
    with pytest.raises(ValueError, match="different runs"):
        nodes.assign_clusters(TITLES, Q, IDENTITIES | {"numbers": [3]})


def test_the_map_and_explorer_draw_numbers_beyond_the_cluster_count():
    from netflix_dec import points as points_table
    from netflix_dec.pipelines.visualization import nodes as visualization

    frame = pd.DataFrame(
        {
            "row": range(4),
            "show_id": TITLES["show_id"],
            "x": [0.0, 0.1, 1.0, 1.1],
            "y": [0.0, 0.1, 1.0, 1.1],
            "cluster": [3, 3, 12, 12],
            "confidence": [0.9, 0.8, 0.7, 0.9],
            "title": TITLES["title"],
            "director": None,
            "release_year": 2020,
            "listed_in": TITLES["listed_in"],
            "description": TITLES["description"],
            "new": False,
        }
    )
    summary = {
        "clusters": [
            {"cluster": 3, "name": "Ghosts", "size": 2},
            {"cluster": 12, "name": "Football", "size": 2},
        ]
    }
    meta = {
        "titles": 4,
        "sampled": False,
        "n_clusters": 2,
        "clusters_in_use": 2,
        "words": {str(k): v for k, v in naming.cluster_names(summary).items()},
        "source_name": "input features",
        "skipped": None,
    }
    record = points_table.to_record(frame, meta)
    html = visualization.build_explorer_html(record)
    assert "Football" in html and "Ghosts" in html
    figure = visualization.plot_cluster_map(record)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["3 · Ghosts", "12 · Football"]


def test_fresh_follows_nothing_and_previous_follows_the_stored_run():
    previous = continuity.identity(TITLES["show_id"], np.array([0, 0, 1, 1]), [4, 6])
    followed, before = nodes.follow_previous_run(
        TITLES, previous, PARAMS.model_copy(update={"continuity": "fresh"})
    )
    assert followed == {"mode": "fresh", "identity": None}
    assert before.tolist() == [-1, -1, -1, -1]
    assert nodes.number_clusters(TITLES, Q, followed)["numbers"] == [0, 1]
    followed, before = nodes.follow_previous_run(TITLES.head(3), previous, PARAMS)
    assert followed["identity"] == previous and before.tolist() == [4, 4, 6]
    with pytest.raises(ValueError, match="not a cluster identity record"):
        nodes.follow_previous_run(TITLES, {"clusters": []}, PARAMS)


def test_dec_starts_from_the_given_centroids():
    from netflix_dec import dec

    rng = np.random.default_rng(0)
    directions = np.eye(3, dtype=np.float32)
    x = np.concatenate([d + rng.normal(0, 0.05, (30, 3)) for d in directions])
    x = x.astype(np.float32)
    before = np.repeat([5, 9, -1], 30)  # two previous clusters, one new group
    start = dec.fit_dec(
        dec.build_feature_embedding(3),
        x,
        dec.DecConfig.of(PARAMS.model_copy(update={"n_clusters": 3, "maxiter": 1})),
        verbose=False,
        initial_centroids=lambda z: continuity.start_centroids(z, before, 3, 0),
    )
    # Column 0 holds previous cluster 5's titles, column 1 cluster 9's.
    assert start.kmeans_labels.tolist() == [0] * 30 + [1] * 30 + [2] * 30
