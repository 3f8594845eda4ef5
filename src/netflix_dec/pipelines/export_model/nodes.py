"""Export the served model: what the inference pipeline answers, and the bundle.

The inference pipeline is the assign pipeline's own path to
``assigned_titles`` (see :func:`..pipeline.create_inference_pipeline`); the
one node added here shapes its answer. :func:`export_model` gathers the saved
training outputs the pipeline reads into a bundle that
:class:`netflix_dec.serving.ServedModelDataset` writes as an MLflow model.
Saved models name ``serve_assignments`` by this module's path (MLflow pickles
the inference pipeline), so it stays here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from netflix_dec.naming import cluster_names
from netflix_dec.params import PARAMETER_GROUPS, ExportModelParams, group_model
from netflix_dec.serving_contract import OUTPUT_COLUMNS, ServedModelBundle

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline


def serve_assignments(
    assigned_titles: pd.DataFrame, cluster_summary: dict[str, Any], *by_products: Any
) -> pd.DataFrame:
    """The served answer: each assigned title with its cluster's name.

    Args:
        assigned_titles: The assign pipeline's table, one row per title.
        cluster_summary: The training run's summary, which names the clusters.
        *by_products: The assign pipeline's other outputs (its report, the
            new titles' features and embeddings, drawn on its map), which
            a served model does not return; taken here so that the pipeline
            has the one output kedro-mlflow's model needs.

    Returns:
        ``show_id``, ``title``, ``cluster``, ``cluster_name``, ``confidence``,
        ``runner_up``, ``novel``, ``seen``, in the request's order.
    """
    names = cluster_names(cluster_summary)
    answer = assigned_titles.assign(
        show_id=assigned_titles["show_id"].astype(str),
        title=assigned_titles["title"].astype(str),
        cluster_name=assigned_titles["cluster"].map(names).fillna(""),
    )
    return answer.loc[:, list(OUTPUT_COLUMNS)]


def export_model(
    inference: Pipeline,
    params: ExportModelParams | dict[str, Any],
    **artifacts: Any,
) -> ServedModelBundle:
    """The served model's parts: the inference pipeline and what it reads.

    Args:
        inference: The inference pipeline
            (:func:`..pipeline.create_inference_pipeline`), bound by the
            export pipeline so that this node needs no pipeline module.
        params: ``export_model`` parameters (the request size limit), as
            Kedro types them, or their dict.
        **artifacts: Each input of the inference pipeline but the new titles,
            loaded, by dataset name (``params:<group>`` for parameters).

    Returns:
        The bundle ``served_model`` saves as an MLflow model folder.
    """
    max_rows = group_model("export_model", params).max_rows
    values = {name: _validated(name, value) for name, value in artifacts.items()}
    return ServedModelBundle(inference, values, max_rows)


def _validated(name: str, value: Any) -> Any:
    """A ``params:<group>`` as its Pydantic model, as Kedro hands it to nodes."""
    group = name.removeprefix("params:")
    if name.startswith("params:") and group in PARAMETER_GROUPS:
        return group_model(group, value)
    return value
