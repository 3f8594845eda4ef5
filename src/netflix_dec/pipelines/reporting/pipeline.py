"""reporting: clusters + titles → tables, their PNGs and one HTML report.

``similar_titles`` comes from the visualization pipeline, whose explorer
lists them too.
"""

from kedro.pipeline import Pipeline, node, pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                nodes.cluster_shares_per_year,
                [
                    "clean_titles",
                    "clusters",
                    "cluster_summary",
                    "params:reporting",
                ],
                "cluster_shares_per_year",
                name="cluster_shares_per_year",
            ),
            node(
                nodes.cluster_shares_per_class,
                [
                    "clean_titles",
                    "clusters",
                    "cluster_summary",
                    "params:reporting",
                ],
                "cluster_shares_per_class",
                name="cluster_shares_per_class",
            ),
            node(
                nodes.relate_clusters,
                ["clusters", "dec_embeddings", "cluster_summary"],
                "cluster_relations",
                name="relate_clusters",
            ),
            node(
                nodes.plot_shares_per_year,
                "cluster_shares_per_year",
                "clusters_over_time_plot",
                name="plot_shares_per_year",
            ),
            node(
                nodes.plot_shares_per_class,
                "cluster_shares_per_class",
                "clusters_per_class_plot",
                name="plot_shares_per_class",
            ),
            node(
                nodes.plot_cluster_relations,
                "cluster_relations",
                "cluster_relations_plot",
                name="plot_cluster_relations",
            ),
            node(
                nodes.build_catalogue_report,
                [
                    "clean_titles",
                    "cluster_summary",
                    "cluster_shares_per_year",
                    "cluster_shares_per_class",
                    "cluster_relations",
                    "similar_titles",
                    "points",
                    "params:reporting",
                    "params:encoding",
                    "params:dec_clustering",
                    "params:visualization",
                    "raw_titles_source",
                ],
                "catalogue_report",
                name="build_catalogue_report",
            ),
        ],
        tags="reporting",
        # Groups the nodes in kedro viz; dataset names stay as in the catalogue.
        namespace="reporting",
        prefix_datasets_with_namespace=False,
    )
