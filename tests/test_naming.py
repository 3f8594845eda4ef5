"""Cluster names: the one helper every output reads names through."""

from __future__ import annotations

from netflix_dec import naming


def test_every_output_reads_the_summary_name_or_else_the_top_words():
    summary = {
        "clusters": [
            {"cluster": 3, "name": "Football", "top_words": ["goal", "match"]},
            # A summary written before clusters had names.
            {"cluster": 7, "top_words": ["ghost", "inn", "haunts", "night"]},
            {"cluster": 9, "name": "", "top_words": []},
        ]
    }
    assert naming.cluster_names(summary) == {
        3: "Football",
        7: "ghost, inn, haunts",
        9: "",
    }
