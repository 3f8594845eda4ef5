"""encoding: clean titles → features → pretrained autoencoder → embeddings."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline, node, pipeline

from netflix_dec.pipeline_shape import encoding_shards

from . import nodes

ENCODE_INPUTS = ["clean_titles", "text_encoder", "feature_cache", "params:encoding"]


def create_pipeline(**kwargs) -> Pipeline:
    """The encoding pipeline; ``shards`` defaults to the run's ``encoding.shards``."""
    shards = kwargs.get("shards") or encoding_shards()
    return pipeline(
        [
            node(
                nodes.fit_text_encoder,
                ["clean_titles", "params:encoding"],
                "text_encoder",
                name="fit_text_encoder",
            ),
            *_encode_nodes(shards),
            node(
                nodes.follow_or_pretrain,
                [
                    "features",
                    "clean_titles",
                    "params:encoding",
                    "space_cache",
                    "previous_autoencoder",
                    "params:dec_clustering",
                ],
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


def _encode_nodes(shards: int) -> list[Node]:
    """One encoding node, or one node per shard (``encoding.shard_<i>``) and a join.

    Each shard writes its partition of ``data/04_feature/shards`` through its own
    ``feature_shard_<i>`` dataset, so every runner sees which shards the join
    waits for.
    """
    if shards == 1:
        return [
            node(
                nodes.encode_descriptions,
                ENCODE_INPUTS,
                "features",
                name="encode_descriptions",
            )
        ]
    parts = [f"feature_shard_{index}" for index in range(shards)]
    return [
        *(
            node(
                update_wrapper(
                    partial(nodes.encode_shard, shard=index, shards=shards),
                    nodes.encode_shard,
                ),
                ENCODE_INPUTS,
                part,
                name="encode_shard",
                namespace=f"shard_{index}",
            )
            for index, part in enumerate(parts)
        ),
        node(nodes.join_feature_shards, parts, "features", name="join_feature_shards"),
    ]
