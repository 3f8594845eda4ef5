"""dec_clustering: autoencoder + features → clusters, their summary and metrics."""

from kedro.pipeline import Pipeline, node, pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            # Continuity: the previous run's clusters, read once (README,
            # "Clusters across runs").
            node(
                nodes.follow_previous_run,
                [
                    "clean_titles",
                    "previous_cluster_identities",
                    "params:dec_clustering",
                ],
                ["followed_clusters", "previous_cluster_labels"],
                name="follow_previous_run",
            ),
            node(
                nodes.train_dec,
                [
                    "autoencoder",
                    "features",
                    "params:dec_clustering",
                    "previous_cluster_labels",
                    "embeddings",
                ],
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
                nodes.number_clusters,
                ["clean_titles", "soft_assignments", "followed_clusters"],
                "cluster_identities",
                name="number_clusters",
            ),
            node(
                nodes.assign_clusters,
                ["clean_titles", "soft_assignments", "cluster_identities"],
                "clusters",
                name="assign_clusters",
            ),
            node(
                nodes.calibrate_novelty,
                ["soft_assignments", "text_encoder", "cluster_identities"],
                "dec_calibration",
                name="calibrate_novelty",
            ),
            node(
                nodes.summarize_clusters,
                [
                    "clean_titles",
                    "clusters",
                    "params:dec_clustering",
                    "cluster_identities",
                    "cluster_names",
                ],
                "cluster_summary",
                name="summarize_clusters",
            ),
            node(
                nodes.export_cluster_names,
                "cluster_summary",
                "cluster_names_generated",
                name="export_cluster_names",
            ),
            node(
                nodes.report_cluster_changes,
                [
                    "followed_clusters",
                    "cluster_identities",
                    "cluster_summary",
                    "cluster_names",
                ],
                ["cluster_changes", "cluster_changes_plot"],
                name="report_cluster_changes",
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
                    "cluster_identities",
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
