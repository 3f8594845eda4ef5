"""assign: new titles → the trained clusters (not part of the default run)."""

from kedro.pipeline import Pipeline, node, pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                nodes.check_new_titles,
                ["new_titles", "clean_titles"],
                "checked_new_titles",
                name="check_new_titles",
            ),
            node(
                nodes.assign_new_titles,
                [
                    "checked_new_titles",
                    "clean_titles",
                    "text_encoder",
                    "dec_model",
                    "dec_calibration",
                    "feature_cache",
                    "params:assign",
                    "params:encoding",
                ],
                [
                    "assigned_titles",
                    "assignment_report",
                    "new_features",
                    "new_dec_embeddings",
                ],
                name="assign_new_titles",
            ),
        ],
        tags="assign",
        # Groups the nodes in kedro viz; dataset names stay as in the catalogue.
        namespace="assign",
        prefix_datasets_with_namespace=False,
    )
