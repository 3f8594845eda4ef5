"""Where catalogue entries' files are, from public Kedro API (netflix_dec.catalog_entries)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from kedro.io import DataCatalog

from netflix_dec.catalog_entries import (
    entry_configs,
    entry_path,
    saved_file,
    wrapped_type,
)


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
        }
    )


def test_saved_file_is_the_latest_version_of_a_versioned_entry(tmp_path: Path):
    for version in ("2026-01-01T00.00.00.000Z", "2026-02-01T00.00.00.000Z"):
        folder = tmp_path / "model.json" / version
        folder.mkdir(parents=True)
        (folder / "model.json").write_text(f'"{version}"', encoding="utf-8")
    catalog = _catalog(tmp_path)

    found = saved_file(catalog, "model", entry_configs(catalog))

    assert found == tmp_path / "model.json/2026-02-01T00.00.00.000Z/model.json"


def test_saved_file_of_an_unversioned_entry_only_once_it_exists(tmp_path: Path):
    catalog = _catalog(tmp_path)
    configs = entry_configs(catalog)
    assert saved_file(catalog, "plain", configs) is None
    assert saved_file(catalog, "model", configs) is None  # no version yet

    catalog.save("plain", pd.DataFrame({"a": [1]}))

    assert saved_file(catalog, "plain", configs) == tmp_path / "plain.csv"


def test_remote_and_unknown_entries_have_no_local_file(tmp_path: Path):
    catalog = _catalog(tmp_path)
    configs = entry_configs(catalog)

    assert saved_file(catalog, "remote", configs) is None
    assert saved_file(catalog, "not_an_entry", configs) is None
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
