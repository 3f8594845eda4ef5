"""Place new titles in the trained clusters: every check first, then one pass.

Nothing is refitted: the new descriptions are encoded with the saved text
encoder (reusing cached rows), and the saved DEC model maps their features to
soft assignments. A title whose confidence is below a low percentile of the
training titles' confidences is flagged ``novel``: it fits no cluster as well
as nearly all training titles fit theirs.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from netflix_dec import continuity
from netflix_dec.catalogue import (
    KEY,
    NEW_TITLES_COLUMNS,
    RawTitlesError,
    content_ids,
    to_project_columns,
)
from netflix_dec.encoders import RowCache, from_settings
from netflix_dec.lazy import KerasModel
from netflix_dec.naming import cluster_names
from netflix_dec.params import AssignParams, DataProcessingParams, EncodingParams

logger = logging.getLogger(__name__)

OUTPUT_COLUMNS = (
    "show_id",
    "title",
    "cluster",
    "confidence",
    "runner_up",
    "novel",
    "seen",
    "name",
)
_SHOWN = 10


class NewTitlesError(ValueError):
    """The new titles cannot be assigned as they are; the message says why."""


class ModelMismatchError(ValueError):
    """The saved model, encoder and calibration are not from one training run."""


def _normalise(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.split().str.join(" ").str.casefold()


def check_new_titles(
    new_titles: pd.DataFrame,
    training_titles: pd.DataFrame,
    params: DataProcessingParams,
) -> pd.DataFrame:
    """Check the new titles and flag those the model was trained on.

    A title is ``seen`` when a training title has the same title and
    description (case and spacing aside); ``show_id`` alone is not trusted,
    as another export of a catalogue may number its titles differently.
    The file's columns are found with the training catalogue's column map
    (``data_processing.columns``); without a ``show_id`` column each title's
    id is made from its title and description, as for training titles.

    Returns:
        ``show_id``, ``title``, ``description`` and ``seen``, in file order.

    Raises:
        NewTitlesError: A required column is missing, there is no row, a
            ``show_id`` repeats, or a description is blank.
    """
    try:
        new_titles = to_project_columns(
            new_titles, params.columns, "new_titles", strict=False
        )
    except RawTitlesError as error:
        raise NewTitlesError(str(error)) from None
    new_titles = _with_ids(new_titles)
    _check_rows(new_titles)
    checked = new_titles.loc[:, list(NEW_TITLES_COLUMNS)].reset_index(drop=True)
    checked["seen"] = _seen(checked, training_titles)
    logger.info(
        "New titles: %d, of which %d already in the training set (flagged seen).",
        len(checked),
        int(checked["seen"].sum()),
    )
    return checked


def _with_ids(new_titles: pd.DataFrame) -> pd.DataFrame:
    """The titles with a ``show_id``: their own, or made as for training titles."""
    if KEY in new_titles:
        return new_titles
    made = new_titles.assign(**{KEY: content_ids(new_titles)})
    unique = made.drop_duplicates(subset=KEY)
    logger.info(
        "No %s column in new_titles: ids made from title and description "
        "(the same as for training titles); %d repeated title(s) dropped.",
        KEY,
        len(made) - len(unique),
    )
    return unique


def _seen(checked: pd.DataFrame, training_titles: pd.DataFrame) -> list[bool]:
    """Whether a training title has each title's title and description."""
    known = _known_pairs(training_titles)
    return [
        pair in known
        for pair in zip(
            _normalise(checked["title"]),
            _normalise(checked["description"]),
            strict=True,
        )
    ]


def _check_rows(new_titles: pd.DataFrame) -> None:
    """Refuse no rows, a missing or repeated ``show_id`` and a blank description."""
    if new_titles.empty:
        raise NewTitlesError("new_titles has a header but no rows: nothing to assign.")
    ids = new_titles["show_id"]
    if ids.isna().any():
        rows = (np.flatnonzero(ids.isna()) + 2).tolist()[:_SHOWN]
        raise NewTitlesError(f"new_titles has rows without a show_id (lines {rows}).")
    repeated = ids[ids.duplicated()].astype(str).unique().tolist()
    if repeated:
        raise NewTitlesError(
            f"show_id must identify one new title, but {len(repeated)} repeat: "
            f"{repeated[:_SHOWN]}."
        )
    blank = _normalise(new_titles["description"]) == ""
    if blank.any():
        raise NewTitlesError(
            f"{int(blank.sum())} new title(s) have no description, which is what "
            f"places a title in a cluster: show_id {ids[blank].astype(str).tolist()[:_SHOWN]}."
        )


# The training titles' normalised (title, description) pairs, by the id of the
# table they were read from: a served model checks every request against the
# same loaded table (8,807 titles take 0.1 s to normalise), a run loads it
# once. The weak reference drops an entry with its table.
_KNOWN_PAIRS: dict[int, tuple[weakref.ref, frozenset[tuple[str, str]]]] = {}


def _known_pairs(training_titles: pd.DataFrame) -> frozenset[tuple[str, str]]:
    """What ``seen`` looks up: normalised once per loaded training table."""
    key = id(training_titles)
    entry = _KNOWN_PAIRS.get(key)
    if entry is not None and entry[0]() is training_titles:
        return entry[1]
    known = frozenset(
        zip(
            _normalise(training_titles["title"]),
            _normalise(training_titles["description"]),
            strict=True,
        )
    )
    reference = weakref.ref(
        training_titles, lambda _, key=key: _KNOWN_PAIRS.pop(key, None)
    )
    _KNOWN_PAIRS[key] = (reference, known)
    return known


def check_model_matches(
    text_encoder: dict[str, Any],
    dec_model: KerasModel,
    calibration: dict[str, Any],
    training_titles: pd.DataFrame,
) -> None:
    """Refuse a text encoder, model and calibration from different runs.

    Raises:
        ModelMismatchError: Naming what the model was trained on and what the
            saved encoder makes.
    """
    trained = f"{calibration['features']} features {calibration['feature_width']} wide"
    encoder = from_settings(text_encoder)
    encoder_width = encoder.width
    makes = f"{encoder.kind} features {encoder_width} wide"
    model_width = int(dec_model.input_shape[-1])
    retrain = "Train them together again with `kedro run`."
    widths = {calibration["feature_width"], encoder_width} - {None}
    if widths - {model_width}:
        raise ModelMismatchError(
            f"dec_model takes features {model_width} wide and was trained on "
            f"{trained}, but text_encoder makes {makes}. {retrain}"
        )
    if calibration["settings_key"] != encoder.settings_key:
        raise ModelMismatchError(
            f"dec_model was trained on {trained}, but text_encoder makes {makes} "
            "with other settings (another vocabulary, model or precision), so its "
            f"features would not mean what the model learnt. {retrain}"
        )
    n_clusters = int(dec_model.output_shape[-1])
    if n_clusters != calibration["n_clusters"]:
        raise ModelMismatchError(
            f"dec_model has {n_clusters} clusters but dec_calibration was made for "
            f"{calibration['n_clusters']}. {retrain}"
        )
    if len(training_titles) != calibration["titles"]:
        raise ModelMismatchError(
            f"clean_titles has {len(training_titles)} titles but dec_model was trained "
            f"on {calibration['titles']}: the files come from different runs. {retrain}"
        )


def novelty_threshold(calibration: dict[str, Any], percentile: float) -> float:
    """The training confidence at ``percentile`` (interpolated between whole ones)."""
    table = calibration["confidence_percentiles"]
    return float(np.interp(percentile, np.linspace(0, 100, len(table)), table))


def predict_assignments(
    dec_model: KerasModel, features: np.ndarray | sparse.csr_matrix
) -> tuple[np.ndarray, np.ndarray]:
    """Soft assignments and the clustering layer's input, in one predict pass."""
    from netflix_dec.batching import predict

    embedding, q = predict(_probe(dec_model), features)
    return q.astype(np.float32), embedding.astype(np.float32)


# One probe per DEC model: a new one per call would be traced again per call
# (about 0.1 s), which a server answering one title at a time cannot afford.
_PROBES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _probe(dec_model: KerasModel) -> KerasModel:
    """``dec_model`` with the clustering layer's input as a first output."""
    probe = _PROBES.get(dec_model)
    if probe is None:
        import keras

        from netflix_dec import dec

        clustering = next(
            layer
            for layer in dec_model.layers
            if isinstance(layer, dec.ClusteringLayer)
        )
        probe = keras.Model(dec_model.input, [clustering.input, dec_model.output])
        _PROBES[dec_model] = probe
    return probe


def assign_new_titles(
    new_titles: pd.DataFrame,
    training_titles: pd.DataFrame,
    text_encoder: dict[str, Any],
    dec_model: KerasModel,
    calibration: dict[str, Any],
    feature_cache: RowCache | None,
    params: AssignParams,
    encoding: EncodingParams,
    cluster_summary: dict[str, Any] | None = None,
    previous_assigned: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], np.ndarray | sparse.csr_matrix, np.ndarray]:
    """Encode the new descriptions and place them, as the training titles were.

    Clusters are given the numbers the training run gave them (the
    calibration's ``cluster_numbers``), so they keep theirs across retrains,
    and the summary's names (the user's where given). With the previous
    assign run's output, the report says how many of its titles moved.

    Returns:
        The assigned titles (``cluster``, ``confidence`` = the soft
        assignment's maximum, ``runner_up`` cluster, ``novel``, ``seen``,
        ``name``), a report, and the new titles' features and DEC
        embeddings (for the map).
    """
    check_model_matches(text_encoder, dec_model, calibration, training_titles)
    features, stats = from_settings(text_encoder).encode(
        new_titles["description"].astype(str).tolist(),
        cache=feature_cache,
        batch_size=encoding.sentence_batch_size,
    )
    q, embedding = predict_assignments(dec_model, features)
    threshold = novelty_threshold(calibration, params.novelty_percentile)
    names = cluster_names(cluster_summary) if cluster_summary else {}
    assigned = _assigned_table(new_titles, q, calibration, threshold, names)
    report = _report(assigned, calibration, threshold, params, stats)
    report["since_previous_assign"] = continuity.moved_since(
        previous_assigned, assigned
    )
    _log_assigned(report, calibration, threshold, params)
    return assigned, report, features, embedding


def _assigned_table(
    new_titles: pd.DataFrame,
    q: np.ndarray,
    calibration: dict[str, Any],
    threshold: float,
    names: dict[int, str],
) -> pd.DataFrame:
    """Each new title's cluster, runner-up and confidence, numbered as in training."""
    ranked = np.argsort(-q, axis=1, kind="stable")
    confidence = q[np.arange(len(q)), ranked[:, 0]]
    numbers = np.asarray(
        calibration.get("cluster_numbers") or range(q.shape[1]), dtype=int
    )
    assigned = pd.DataFrame(
        {
            "show_id": new_titles["show_id"].to_numpy(),
            "title": new_titles["title"].to_numpy(),
            "cluster": numbers[ranked[:, 0]],
            "confidence": confidence.astype(np.float64),
            "runner_up": numbers[ranked[:, 1]],
            "novel": confidence < threshold,
            "seen": new_titles["seen"].to_numpy(dtype=bool),
        }
    )
    assigned["name"] = [str(names.get(c, "")) for c in assigned["cluster"].tolist()]
    return assigned


def _log_assigned(
    report: dict[str, Any],
    calibration: dict[str, Any],
    threshold: float,
    params: AssignParams,
) -> None:
    if report["since_previous_assign"]["previous_assign"]:
        logger.info(
            "Of %d titles also in the previous assign run, %d moved to another cluster.",
            report["since_previous_assign"]["titles_in_both"],
            report["since_previous_assign"]["moved"],
        )
    logger.info(
        "Assigned %d titles to %d clusters: %d novel (confidence below %.4f, the "
        "training titles' %g%% percentile), %d seen in training.",
        report["titles"],
        calibration["n_clusters"],
        report["novel"],
        threshold,
        params.novelty_percentile,
        report["seen"],
    )


def _report(
    assigned: pd.DataFrame,
    calibration: dict[str, Any],
    threshold: float,
    params: AssignParams,
    stats: Any,
) -> dict[str, Any]:
    # Counted with NumPy: a groupby costs a served request 7 ms.
    clusters = assigned["cluster"].to_numpy(dtype=np.intp)
    titles = np.bincount(clusters)
    novel = np.bincount(clusters, weights=assigned["novel"].to_numpy(dtype=float))
    names = dict(zip(clusters.tolist(), assigned["name"], strict=True))
    return {
        "titles": len(assigned),
        "novel": int(assigned["novel"].sum()),
        "share_novel": round(float(assigned["novel"].mean()), 4),
        "seen": int(assigned["seen"].sum()),
        "novelty_threshold": threshold,
        "novelty_percentile": params.novelty_percentile,
        "n_clusters": calibration["n_clusters"],
        "features": calibration["features"],
        "features_reused": stats.reused,
        "features_computed": stats.computed,
        "clusters": [
            {
                "cluster": int(c),
                "name": names[c],
                "titles": int(titles[c]),
                "novel": int(novel[c]),
            }
            for c in np.flatnonzero(titles)
        ],
    }
