"""model_selection: cached embeddings → one row per n_clusters, a plot, a suggestion.

Not part of the default run: ``kedro run --pipelines model_selection`` after a
run has written the features and embeddings.
"""

from kedro.pipeline import Pipeline, node, pipeline

from . import nodes

# The space dec_clustering clusters in: its KMeans start is fitted on the
# encoder's output for the features, which the encoding pipeline saves as
# `embeddings` (the sentence features' UMAP space by default, the autoencoder's
# bottleneck, or the sentence features as they are with embedding: features).
CLUSTERING_SPACE = "embeddings"


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                nodes.sweep_n_clusters,
                [CLUSTERING_SPACE, "clean_titles", "params:model_selection"],
                "model_selection_table",
                name="sweep_n_clusters",
            ),
            node(
                nodes.suggest_n_clusters,
                ["model_selection_table", "params:model_selection"],
                "model_selection_report",
                name="suggest_n_clusters",
            ),
            node(
                nodes.plot_sweep,
                ["model_selection_table", "model_selection_report"],
                "model_selection_plot",
                name="plot_sweep",
            ),
        ],
        tags="model_selection",
        namespace="model_selection",
        prefix_datasets_with_namespace=False,
    )
