"""visualization: clusters → one points table → a PNG map and an HTML explorer.

The explorer lists each title's similar titles (``similar_titles``, also
in the catalogue report).
"""

from kedro.pipeline import Pipeline, node, pipeline

from netflix_dec.pipelines.reporting.nodes import find_similar_titles

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                nodes.build_points,
                [
                    "clusters",
                    "clean_titles",
                    "cluster_summary",
                    "dec_embeddings",
                    "embeddings",
                    "features",
                    "params:visualization",
                    "map_cache",
                ],
                "points",
                name="build_points",
            ),
            node(
                nodes.plot_cluster_map,
                "points",
                "cluster_map_plot",
                name="plot_cluster_map",
            ),
            node(
                find_similar_titles,
                [
                    "clusters",
                    "features",
                    "points",
                    "cluster_summary",
                    "params:reporting",
                ],
                "similar_titles",
                name="find_similar_titles",
            ),
            node(
                nodes.build_explorer_html,
                ["points", "similar_titles"],
                "cluster_explorer",
                name="build_cluster_explorer",
            ),
        ],
        tags="visualization",
        # Groups the nodes in kedro viz; dataset names stay as in the catalogue.
        namespace="visualization",
        prefix_datasets_with_namespace=False,
    )
