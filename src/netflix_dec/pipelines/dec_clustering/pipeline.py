"""dec_clustering: autoencoder + features → clusters, their summary and metrics."""

from kedro.pipeline import Pipeline, node, pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                nodes.train_dec,
                ["autoencoder", "features", "params:dec_clustering"],
                [
                    "dec_model",
                    "soft_assignments",
                    "dec_embeddings",
                    "kmeans_start_labels",
                    "dec_training",
                ],
                name="train_dec",
            ),
            node(
                nodes.assign_clusters,
                ["clean_titles", "soft_assignments"],
                "clusters",
                name="assign_clusters",
            ),
            node(
                nodes.calibrate_novelty,
                ["soft_assignments", "text_encoder"],
                "dec_calibration",
                name="calibrate_novelty",
            ),
            node(
                nodes.summarize_clusters,
                ["clean_titles", "clusters", "params:dec_clustering"],
                "cluster_summary",
                name="summarize_clusters",
            ),
            node(
                nodes.evaluate_clustering,
                [
                    "clean_titles",
                    "clusters",
                    "kmeans_start_labels",
                    "embeddings",
                    "dec_embeddings",
                    "dec_training",
                    "params:dec_clustering",
                ],
                "clustering_metrics",
                name="evaluate_clustering",
            ),
        ],
        tags="dec_clustering",
        # Groups the nodes in kedro viz; dataset names stay as in the catalogue.
        namespace="dec_clustering",
        prefix_datasets_with_namespace=False,
    )
