"""Where catalogue entries' files are: public Kedro API (netflix_dec.catalog_entries)
and the project datasets' own ``current_file`` (netflix_dec.storage.versions)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from kedro.io import DataCatalog

from netflix_dec.catalog_entries import (
    entry_configs,
    entry_path,
    wrapped_type,
)
from netflix_dec.storage.versions import RunVersions


def _current(catalog: DataCatalog, name: str) -> Path | None:
    """What tracking logs of an entry: a project dataset's current file."""
    dataset = catalog.get(name) if name in catalog else None
    return dataset.current_file() if isinstance(dataset, RunVersions) else None


def _catalog(root: Path) -> DataCatalog:
    return DataCatalog.from_config(
        {
            "plain": {
                "type": "netflix_dec.datasets.AtomicDataset",
                "filepath": str(root / "plain.csv"),
                "dataset": {"type": "pandas.CSVDataset"},
            },
            "model": {
                "type": "netflix_dec.datasets.AtomicDataset",
                "filepath": str(root / "model.json"),
                "versioned": True,
                "dataset": {"type": "json.JSONDataset"},
            },
            "remote": {
                "type": "pandas.CSVDataset",
                "filepath": "s3://bucket/titles.csv",
            },
            "in_memory_store": {
                "type": "netflix_dec.datasets.AtomicDataset",
                "filepath": "memory://bucket/titles.csv",
                "dataset": {"type": "pandas.CSVDataset"},
            },
        }
    )


def test_the_current_file_is_the_latest_version_of_a_versioned_entry(tmp_path: Path):
    for version in ("2026-01-01T00.00.00.000Z", "2026-02-01T00.00.00.000Z"):
        folder = tmp_path / "model.json" / version
        folder.mkdir(parents=True)
        (folder / "model.json").write_text(f'"{version}"', encoding="utf-8")
    catalog = _catalog(tmp_path)

    found = _current(catalog, "model")

    assert found == tmp_path / "model.json/2026-02-01T00.00.00.000Z/model.json"


def test_the_current_file_of_an_unversioned_entry_only_once_it_exists(tmp_path: Path):
    catalog = _catalog(tmp_path)
    assert _current(catalog, "plain") is None
    assert _current(catalog, "model") is None  # no version yet

    catalog.save("plain", pd.DataFrame({"a": [1]}))

    assert _current(catalog, "plain") == tmp_path / "plain.csv"


def test_remote_and_unknown_entries_have_no_local_file(tmp_path: Path):
    catalog = _catalog(tmp_path)
    configs = entry_configs(catalog)

    catalog.save("in_memory_store", pd.DataFrame({"a": [1]}))
    assert _current(catalog, "in_memory_store") is None  # not a local file
    assert _current(catalog, "not_an_entry") is None
    assert entry_path(configs["remote"]) == "s3://bucket/titles.csv"


def test_wrapped_type_names_the_class_that_reads_the_file(tmp_path: Path):
    configs = entry_configs(_catalog(tmp_path))

    assert wrapped_type(configs["model"]) == "json.JSONDataset"
    assert wrapped_type(configs["remote"]) == "pandas.CSVDataset"
    assert wrapped_type({}) == ""


def test_source_of_a_plain_csv_entry_is_its_configured_path_and_load_args(
    tmp_path: Path,
):
    """A ``pandas.CSVDataset`` raw_titles a project may keep in conf/local."""
    from netflix_dec.catalogue import CatalogueDataset, source_of

    path = tmp_path / "titles.tsv"
    catalog = DataCatalog.from_config(
        {
            "plain": {
                "type": "pandas.CSVDataset",
                "filepath": str(path),
                "load_args": {"sep": ";", "encoding": "latin-1"},
            }
        }
    )
    catalog["ours"] = CatalogueDataset(filepath=str(path))

    assert source_of(catalog, "plain") == {
        "path": str(path),
        "file_format": None,
        "load_args": {"sep": ";", "encoding": "latin-1"},
    }
    assert source_of(catalog, "ours") == {
        "path": str(path),
        "file_format": "csv",
        "load_args": {"sep": "\t"},
    }


def _optional_model(root: Path) -> DataCatalog:
    return DataCatalog.from_config(
        {
            "previous_model": {
                "type": "netflix_dec.datasets.OptionalDataset",
                "filepath": str(root / "model.keras"),
                "versioned": True,
                "dataset": {"type": "tensorflow.TensorFlowModelDataset"},
            }
        }
    )


def test_an_entry_already_made_reads_as_written(tmp_path: Path):
    """Kedro describes a made OptionalDataset by its parent's __init__ arguments."""
    folder = tmp_path / "model.keras" / "2026-01-01T00.00.00.000Z"
    folder.mkdir(parents=True)
    (folder / "model.keras").write_bytes(b"zip")
    catalog = _optional_model(tmp_path)
    catalog.get("previous_model")  # made, as a run's hooks find it

    configs = entry_configs(catalog)

    assert (
        wrapped_type(configs["previous_model"]) == "tensorflow.TensorFlowModelDataset"
    )
    assert configs["previous_model"]["versioned"] is True
    assert _current(catalog, "previous_model") == folder / "model.keras"


def test_a_run_that_loads_a_saved_model_registers_the_layers_first(tmp_path: Path):
    """In a fresh process, as ``kedro run`` starts: NeighbourSpace and
    ClusteringLayer must be registered before Keras rebuilds a saved model."""
    script = f"""
import sys
from pathlib import Path
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node
sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
from tests.test_catalog_entries import _optional_model
from netflix_dec.hooks import register_model_layers

catalog = _optional_model(Path({str(tmp_path)!r}))
catalog.get("previous_model")
pipeline = Pipeline([node(len, "previous_model", "n", name="uses_model")])
assert "netflix_dec.space" not in sys.modules
register_model_layers(pipeline, catalog)
import keras
print(keras.saving.get_registered_object("netflix_dec>NeighbourSpace") is not None)
"""
    import subprocess
    import sys

    done = subprocess.run(  # noqa: PLW1510  (the return code is asserted)
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
