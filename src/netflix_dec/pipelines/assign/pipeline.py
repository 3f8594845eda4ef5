"""assign: new titles → the trained clusters (not part of the default run)."""

from kedro.pipeline import Pipeline, node, pipeline

from netflix_dec.pipelines.visualization import nodes as visualization

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                nodes.check_new_titles,
                ["new_titles", "clean_titles", "params:data_processing"],
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
                    "cluster_summary",
                    "previous_assigned_titles",
                ],
                [
                    "assigned_titles",
                    "assignment_report",
                    "new_features",
                    "new_dec_embeddings",
                ],
                name="assign_new_titles",
            ),
            # The new titles on the training titles' map, in the explorer.
            node(
                visualization.place_new_titles,
                [
                    "points",
                    "assigned_titles",
                    "checked_new_titles",
                    "new_features",
                    "new_dec_embeddings",
                    "dec_embeddings",
                    "features",
                ],
                "assigned_points",
                name="place_new_titles",
            ),
            node(
                visualization.build_explorer_html,
                "assigned_points",
                "assigned_explorer",
                name="build_assigned_explorer",
            ),
        ],
        tags="assign",
        # Groups the nodes in kedro viz; dataset names stay as in the catalogue.
        namespace="assign",
        prefix_datasets_with_namespace=False,
    )
