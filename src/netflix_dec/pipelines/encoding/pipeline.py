"""encoding: clean titles → features → pretrained autoencoder → embeddings."""

from kedro.pipeline import Pipeline, node, pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                nodes.fit_text_encoder,
                ["clean_titles", "params:encoding"],
                "text_encoder",
                name="fit_text_encoder",
            ),
            node(
                nodes.encode_descriptions,
                ["clean_titles", "text_encoder", "feature_cache", "params:encoding"],
                "features",
                name="encode_descriptions",
            ),
            node(
                nodes.pretrain_autoencoder,
                ["features", "params:encoding"],
                ["autoencoder", "pretraining_history"],
                name="pretrain_autoencoder",
            ),
            node(
                nodes.embed_titles,
                ["autoencoder", "features"],
                "embeddings",
                name="embed_titles",
            ),
            node(
                nodes.plot_loss_curve,
                "pretraining_history",
                "pretraining_loss_plot",
                name="plot_pretraining_loss",
            ),
        ],
        tags="encoding",
        # Groups the nodes in kedro viz; dataset names stay as in the catalogue.
        namespace="encoding",
        prefix_datasets_with_namespace=False,
    )
