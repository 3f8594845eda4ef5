"""The catalogue report's tables, checked against counts made by hand.

A tiny catalogue is written out here: eight titles in clusters 3 and 7 (not
0..k-1), dates in two forms, a country list, a blank and an "Unknown".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from netflix_dec import points as points_table
from netflix_dec import report, report_html
from netflix_dec.params import (
    DecClusteringParams,
    EncodingParams,
    ReportingParams,
    VisualizationParams,
)
from netflix_dec.pipelines.reporting import nodes
from netflix_dec.similar import nearest_neighbours, normalise, top_k

PAYLOAD = "<img src=x onerror=alert(1)>"


def tiny_catalogue() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Eight titles, clusters 3 and 7, as clean_titles, clusters and a summary."""
    titles = pd.DataFrame(
        {
            "show_id": [f"s{i}" for i in range(8)],
            "type": "Movie",
            "title": ["A", "B", "C", PAYLOAD, "E", "F", "G", "H"],
            "country": [
                "India",
                "India, France",
                "France",
                "Unknown",
                "India",
                " ",
                "Spain",
                "India",
            ],
            "date_added": [
                "January 1, 2019",
                "March 3, 2019",
                "2020-05-01",
                "Unknown",
                "June 1, 2020",
                "July 1, 2020",
                "2021",
                "August 9, 2020",
            ],
            "release_year": [2018, 2019, 2019, 2020, 2020, 2020, 2021, 2019],
            "rating": ["TV-MA", "TV-MA", "PG", "PG", "TV-MA", "R", "R", "Unknown"],
            "listed_in": "Dramas",
            "description": [f"A story about thing {i}." for i in range(8)],
        }
    )
    clusters = pd.DataFrame(
        {
            "show_id": titles["show_id"],
            "title": titles["title"],
            "cluster": [3, 3, 7, 7, 3, 7, 7, 3],
            "confidence": 0.9,
        }
    )
    summary = {
        "clusters": [
            {
                "cluster": 3,
                "name": "love, family · Dramas",
                "size": 4,
                "top_words": ["love", "family"],
                "top_genres": {"Dramas": 4},
                "examples": ["A", "B"],
            },
            {
                "cluster": 7,
                "name": f"crime {PAYLOAD}",
                "size": 4,
                "top_words": ["crime"],
                "top_genres": {"Dramas": 4},
                "examples": [PAYLOAD, "C"],
            },
        ]
    }
    return titles, clusters, summary


PARAMS = ReportingParams(similar_titles=2, top_classes=2, few_titles=3, examples=2)


def test_shares_per_year_by_hand() -> None:
    titles, clusters, summary = tiny_catalogue()
    table = nodes.cluster_shares_per_year(titles, clusters, summary, PARAMS)
    added = table.loc[table["basis"] == "date_added"].set_index(["year", "cluster"])
    # Added: 2019 A,B (3,3); 2020 C,E,F,H (7,3,7,3); 2021 G (7); s3 unknown.
    assert added.loc[(2019, 3), "titles"] == 2 and added.loc[(2019, 7), "titles"] == 0
    assert added.loc[(2020, 3), "share"] == pytest.approx(0.5)
    assert added.loc[(2021, 7), "share"] == pytest.approx(1.0)
    assert added["titles"].sum() == 7  # the unknown date is left out
    few = added.reset_index().drop_duplicates("year").set_index("year")["few"]
    assert few.to_dict() == {2019: True, 2020: False, 2021: True}
    for _, year in table.groupby(["basis", "year"]):
        assert year["share"].sum() == pytest.approx(1.0)
    released = table.loc[table["basis"] == "release_year"].set_index(
        ["year", "cluster"]
    )
    # Released 2019: B (3), C (7), H (3).
    assert released.loc[(2019, 3), "titles"] == 2
    assert released.loc[(2019, 3), "share"] == pytest.approx(2 / 3)
    assert set(table["cluster"]) == {3, 7}


def test_shares_per_class_by_hand() -> None:
    titles, clusters, summary = tiny_catalogue()
    table = nodes.cluster_shares_per_class(titles, clusters, summary, PARAMS)
    country = table.loc[table["facet"] == "country"].set_index(["class", "cluster"])
    # India: A, B, E, H (all cluster 3); France: B (3), C (7); Spain: G -> Other.
    assert list(dict.fromkeys(country.index.get_level_values(0))) == [
        "India",
        "France",
        report.OTHER,
    ]
    assert country.loc[("India", 3), "titles"] == 4
    assert country.loc[("France", 7), "share"] == pytest.approx(0.5)
    assert country.loc[(report.OTHER, 7), "class_titles"] == 1
    rating = table.loc[table["facet"] == "rating"].set_index(["class", "cluster"])
    # TV-MA: A, B, E (3); then PG and R tie on two; "Unknown" is left out.
    assert rating.loc[("TV-MA", 3), "titles"] == 3
    assert rating["titles"].sum() == 7
    for _, group in table.groupby(["facet", "class"]):
        assert group["share"].sum() == pytest.approx(1.0)


def test_absent_column_reads_as_empty() -> None:
    titles, clusters, summary = tiny_catalogue()
    titles = titles.drop(columns=["country", "date_added"])
    per_class = nodes.cluster_shares_per_class(titles, clusters, summary, PARAMS)
    assert set(per_class["facet"]) == {"rating"}
    per_year = nodes.cluster_shares_per_year(titles, clusters, summary, PARAMS)
    assert set(per_year["basis"]) == {"release_year"}
    assert report.coverage(titles.get("country"), 8)["absent"]


def test_coverage_counts_fillers_as_missing() -> None:
    titles, _, _ = tiny_catalogue()
    info = report.coverage(titles["country"], len(titles))
    assert (info["known"], info["missing"]) == (6, 2)


def test_relations_from_centroids() -> None:
    clusters = np.array([5, 5, 1, 1, 9, 9])
    embedding = np.array(
        [[1.0, 0.0], [1.0, 0.2], [0.0, 1.0], [0.2, 1.0], [1.0, 0.1], [0.9, 0.1]]
    )
    record = report.cluster_relations(embedding, clusters, {1: "one", 5: "five"})
    assert record["clusters"] == [1, 5, 9]
    assert record["names"] == ["one", "five", "9"]
    assert record["sizes"] == [2, 2, 2]
    centre = {1: [0.1, 1.0], 5: [1.0, 0.1], 9: [0.95, 0.1]}
    unit = {c: np.array(v) / np.linalg.norm(v) for c, v in centre.items()}
    similarity = np.array(record["similarity"])
    assert similarity[0, 1] == pytest.approx(unit[1] @ unit[5], abs=1e-4)
    assert similarity[1, 2] == pytest.approx(unit[5] @ unit[9], abs=1e-4)
    # 5 and 9 are joined first; 1 joins last.
    first = sorted(record["linkage"][0][:2])
    assert first == [1.0, 2.0]


def _true_neighbours(x: np.ndarray, k: int) -> list[list[int]]:
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    result = []
    for i in range(len(x)):
        scores = [(-(unit[i] @ unit[j]), j) for j in range(len(x)) if j != i]
        result.append([j for _, j in sorted(scores)[:k]])
    return result


@pytest.mark.parametrize("block", [2**26, 7])  # one block, then several
@pytest.mark.parametrize("kind", ["dense", "sparse", "memmap"])
def test_similar_titles_are_true_nearest_neighbours(
    kind: str, block: int, tmp_path
) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(23, 6)).astype(np.float32)
    x[x < 0.2] = 0.0  # a sparse-like matrix with some empty entries
    x[:, 0] += 0.1  # no row is all zero
    expected = _true_neighbours(x.astype(np.float64), 4)
    data = x
    if kind == "sparse":
        data = sparse.csr_matrix(x)
    elif kind == "memmap":
        data = np.lib.format.open_memmap(
            tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=x.shape
        )
        data[:] = x
    indices, similarities = nearest_neighbours(data, 4, block_elements=block)
    assert indices.tolist() == expected
    assert (np.diff(similarities, axis=1) <= 1e-6).all()
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert similarities[0, 0] == pytest.approx(unit[0] @ unit[expected[0][0]], abs=1e-5)


def test_the_top_k_are_the_largest_with_equal_values_by_column() -> None:
    """Many ties, as a similarity block of repeated descriptions has."""
    block = np.random.default_rng(7).integers(0, 4, size=(30, 50)).astype(np.float32)
    for k in (1, 3, 49):
        columns, values = top_k(block, k)
        expected = [sorted(range(50), key=lambda j: (-row[j], j))[:k] for row in block]
        assert columns.tolist() == expected
        np.testing.assert_array_equal(values, np.take_along_axis(block, columns, 1))


def test_unaligned_rows_are_searched_from_aligned_copies() -> None:
    """A memory-mapped ``.npz`` member starts at any byte (the features' did at 59)."""
    x = np.random.default_rng(2).normal(size=(30, 8)).astype(np.float32)
    buffer = bytearray(x.nbytes + 1)
    unaligned = np.frombuffer(buffer, dtype=np.float32, offset=1, count=x.size)
    unaligned = unaligned.reshape(x.shape)
    unaligned.setflags(write=True)
    unaligned[:] = x
    assert not unaligned.flags.aligned
    unit = normalise(unaligned[:10])
    assert unit.flags.aligned and unit.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-6)
    for block in (2**26, 7):  # all titles in one chunk, then chunks of 7
        indices, scores = nearest_neighbours(unaligned, 4, block_elements=block)
        expected, expected_scores = nearest_neighbours(x, 4)
        np.testing.assert_array_equal(indices, expected)
        np.testing.assert_allclose(scores, expected_scores, atol=1e-6)


def test_few_titles_have_every_other_title_as_neighbour() -> None:
    indices, _ = nearest_neighbours(np.eye(3, dtype=np.float32) + 0.1, 5)
    assert indices.shape == (3, 2)
    assert [sorted(row) for row in indices.tolist()] == [[1, 2], [0, 2], [0, 1]]


def test_similar_titles_table() -> None:
    _, clusters, _ = tiny_catalogue()
    features = np.eye(8, dtype=np.float32)
    features[1] += features[0]  # B is A's nearest title, and A is B's
    table = nodes.find_similar_titles(clusters, features, _shown(8), {}, PARAMS)
    assert len(table) == 8 * 2
    first = table.loc[(table["show_id"] == "s0") & (table["rank"] == 1)].iloc[0]
    assert (first["similar_show_id"], first["similar_title"]) == ("s1", "B")
    assert first["similarity"] == pytest.approx(1 / np.sqrt(2), abs=1e-4)
    assert first["similar_cluster"] == 3


def _shown(rows) -> dict:
    """A points record of the explorer's titles: their rows, nothing else read."""
    rows = range(rows) if isinstance(rows, int) else rows
    return {"columns": {"row": list(rows)}}


def test_queries_get_the_neighbours_a_search_of_every_row_gives() -> None:
    x = np.random.default_rng(5).normal(size=(40, 6)).astype(np.float32)
    every, every_score = nearest_neighbours(x, 3)
    rows = np.array([0, 7, 39])
    some, some_score = nearest_neighbours(x, 3, block_elements=50, queries=rows)
    np.testing.assert_array_equal(some, every[rows])
    np.testing.assert_allclose(some_score, every_score[rows], atol=1e-6)


def test_a_large_catalogue_lists_the_shown_and_example_titles_only() -> None:
    _, clusters, summary = tiny_catalogue()
    features = np.random.default_rng(1).normal(size=(8, 5)).astype(np.float32)
    every = nodes.find_similar_titles(clusters, features, _shown(8), summary, PARAMS)
    small = PARAMS.model_copy(update={"similar_titles_max_titles": 7})
    table = nodes.find_similar_titles(
        clusters, features, _shown([6, 1]), summary, small
    )
    # Rows 1 and 6 are shown; the clusters' examples are listed too.
    examples = [t for c in summary["clusters"] for t in c["examples"]]
    listed = clusters.loc[clusters["title"].isin(examples), "show_id"]
    assert 0 < len(listed) < 8
    wanted = {"s1", "s6", *listed}
    assert set(table["show_id"]) == wanted
    expected = every.loc[every["show_id"].isin(wanted)].reset_index(drop=True)
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected)
    # At the limit, every title.
    at = PARAMS.model_copy(update={"similar_titles_max_titles": 8})
    assert (
        len(nodes.find_similar_titles(clusters, features, _shown([1]), summary, at))
        == 16
    )


def test_growth_by_hand() -> None:
    titles, clusters, summary = tiny_catalogue()
    table = nodes.cluster_shares_per_year(titles, clusters, summary, PARAMS)
    added = table.loc[table["basis"] == "date_added"]
    growth = report.growth(added, 2019).set_index("cluster")
    # Up to 2019: A, B (both 3). After: C, F, G (7) and E, H (3).
    assert growth.loc[3, "before"] == pytest.approx(1.0)
    assert growth.loc[7, "after"] == pytest.approx(3 / 5)
    assert growth.index[0] == 7  # grew most


def _report_html(titles, clusters, summary, source=None) -> str:
    per_year = nodes.cluster_shares_per_year(titles, clusters, summary, PARAMS)
    per_class = nodes.cluster_shares_per_class(titles, clusters, summary, PARAMS)
    embedding = np.random.default_rng(0).normal(size=(len(titles), 3))
    relations = nodes.relate_clusters(clusters, embedding, summary)
    similar = nodes.find_similar_titles(
        clusters, embedding, _shown(len(titles)), summary, PARAMS
    )
    frame = pd.DataFrame(
        {
            "row": range(len(titles)),
            "show_id": titles["show_id"],
            "x": embedding[:, 0],
            "y": embedding[:, 1],
            "cluster": clusters["cluster"],
            "confidence": 0.9,
            "title": titles["title"],
            "director": None,
            "release_year": titles["release_year"],
            "listed_in": titles["listed_in"],
            "description": titles["description"],
            "new": False,
        }
    )
    meta = {
        "titles": len(titles),
        "sampled": False,
        "clusters_in_use": 2,
        "source_name": "DEC embeddings",
    }
    return nodes.build_catalogue_report(
        titles,
        summary,
        per_year,
        per_class,
        relations,
        similar,
        points_table.to_record(frame, meta),
        PARAMS,
        _params(EncodingParams, "encoding"),
        _params(DecClusteringParams, "dec_clustering"),
        _params(VisualizationParams, "visualization"),
        source,
    )


def _params(model, group):
    import yaml

    from tests.support import ROOT

    path = ROOT / "conf" / "base" / f"parameters_{group}.yml"
    return model(**yaml.safe_load(path.read_text())[group])


def test_report_has_every_section_and_escapes_text() -> None:
    titles, clusters, summary = tiny_catalogue()
    page = _report_html(titles, clusters, summary)
    for key in report_html.SECTIONS:
        assert f'<section id="{key}">' in page
    assert PAYLOAD not in page
    assert report_html.esc(PAYLOAD) in page
    assert "<script" not in page
    assert "default-src 'none'" in page


def test_report_names_the_file_data_processing_read() -> None:
    titles, clusters, summary = tiny_catalogue()
    source = {"path": "/catalogues/our_titles.parquet", "rows": 8, "columns": []}

    named = _report_html(titles, clusters, summary, source)
    unknown = _report_html(titles, clusters, summary, {"path": None})

    assert "/catalogues/our_titles.parquet" in named
    assert "netflix_titles_sample" not in named
    assert "not recorded" in unknown and "/catalogues/" not in unknown


def test_report_says_what_is_missing() -> None:
    titles, clusters, summary = tiny_catalogue()
    titles = titles.drop(columns=["country"])
    titles["date_added"] = ["Unknown"] * 7 + ["June 1, 2020"]
    page = _report_html(titles, clusters, summary)
    assert "The catalogue has no <b>country</b> column" in page
    assert "Mostly empty: <b>date_added</b> is known for 1 of 8 titles" in page
    # The rest stays whole: the ratings' heatmap and the release years are drawn.
    assert "TV-MA (3)" in page
    assert "release year" in page


def test_short_names_and_label_positions() -> None:
    assert points_table.short_name(3, "love, romance, girl · Romantic Movies") == (
        "3 · love, romance"
    )
    assert points_table.short_name(4, "Christmas films") == "4 · Christmas films"
    frame = pd.DataFrame(
        {"x": [0.0, 0.1, 0.2, 9.0, 9.1], "y": 0.0, "cluster": [1, 1, 1, 8, 8]}
    )
    positions = points_table.label_positions(frame)
    assert positions[1] == pytest.approx((0.1, 0.0))
    assert positions[8][0] == pytest.approx(9.0, abs=0.11)


def test_similar_titles_reach_the_explorer_by_drawn_row() -> None:
    from netflix_dec.pipelines.visualization.nodes import similar_for_points

    placed = pd.DataFrame({"show_id": ["s2", "s0", "s9"], "new": [False, False, True]})
    similar = pd.DataFrame(
        {
            "show_id": ["s0", "s0", "s2", "s5"],
            "rank": [1, 2, 1, 1],
            "similar_show_id": ["s2", "s7", "s0", "s0"],
            "similar_title": ["C", "H", "A", "A"],
            "similarity": [0.9, 0.8, 0.9, 0.5],
        }
    )
    table = similar_for_points(placed, similar)
    # s0 is drawn row 1, s2 row 0; s7 is not drawn (-1); s5 and the new s9 list none.
    assert table.to_dict("list") == {
        "point": [1, 1, 0],
        "rank": [1, 2, 1],
        "title": ["C", "H", "A"],
        "similarity": [0.9, 0.8, 0.9],
        "similar_point": [0, -1, 1],
    }
