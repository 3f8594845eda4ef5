"""visualization: clusters → a 2-D projection → a PNG map and an HTML explorer."""

from kedro.pipeline import Pipeline, node, pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                nodes.project_2d,
                [
                    "clusters",
                    "dec_embeddings",
                    "embeddings",
                    "features",
                    "params:visualization",
                ],
                "projection",
                name="project_2d",
            ),
            node(
                nodes.plot_cluster_map,
                ["projection", "clusters", "cluster_summary", "params:visualization"],
                "cluster_map_plot",
                name="plot_cluster_map",
            ),
            node(
                nodes.build_explorer_html,
                [
                    "projection",
                    "clusters",
                    "clean_titles",
                    "cluster_summary",
                    "params:visualization",
                ],
                "cluster_explorer",
                name="build_cluster_explorer",
            ),
        ],
        tags="visualization",
        # Groups the nodes in kedro viz; dataset names stay as in the catalogue.
        namespace="visualization",
        prefix_datasets_with_namespace=False,
    )
