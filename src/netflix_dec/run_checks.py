"""The checks a run makes before its first node, so that it cannot stop midway.

Each says what is wrong and how to mend it, before any output is touched:
an input no node of the run makes and no earlier run made
(:func:`check_inputs_exist`), new titles to assign that lack a column
(:func:`check_new_titles`), and raw titles that the run could not cluster,
project or even read (:func:`check_titles`). The parameters are checked in
:mod:`netflix_dec.params`; :mod:`netflix_dec.hooks` runs all of these when a
run starts.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from pathlib import Path
from typing import Any

from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from netflix_dec.catalog_entries import entry_configs, entry_path
from netflix_dec.catalogue import (
    NEW_TITLES_ENV_VAR,
    check_new_titles_file,
    check_titles_header,
    check_titles_left,
    check_titles_table,
    clean_catalogue,
    source_of,
)
from netflix_dec.dataset_names import (
    CLEAN_TITLES,
    DEC_MODEL,
    NEW_TITLES,
    PARAMETERS,
    PARAMS_PREFIX,
    RAW_TITLES,
)


def check_inputs_exist(pipeline: Pipeline, catalog: DataCatalog) -> None:
    """Refuse to start when an input no node of this run makes is missing.

    ``kedro run --pipelines assign`` before any training, or ``--pipelines
    visualization`` before clustering, would otherwise fail midway on a bare
    "file not found"; this names each missing file and the command that makes it.
    """
    from netflix_dec.storage.caches import FeatureCache, MapCache

    missing = []
    for name in sorted(pipeline.inputs()):
        if name.startswith(PARAMS_PREFIX) or name in {PARAMETERS, RAW_TITLES}:
            continue
        if name not in catalog or isinstance(
            catalog.get(name), FeatureCache | MapCache
        ):
            continue
        if not catalog.exists(name):
            missing.append(name)
    if not missing:
        return
    registered = every_pipeline()
    configs = entry_configs(catalog)
    lines = []
    for name in missing:
        where = entry_path(configs.get(name, {})) or ""
        with contextlib.suppress(ValueError):
            where = str(Path(where).relative_to(Path.cwd()))
        makers = sorted(
            key for key, pipe in registered.items() if name in pipe.all_outputs()
        )
        how = (
            f"made by the {', '.join(makers)} pipeline"
            if makers
            else "not made by any pipeline: provide it"
        )
        if name == NEW_TITLES:
            how = (
                "put the titles to assign there, or set "
                f"{NEW_TITLES_ENV_VAR} to their file"
            )
        lines.append(f"  {name} ({where}): {how}")
    trained = DEC_MODEL in missing
    raise FileNotFoundError(
        ("No trained model yet. " if trained else "")
        + "This run needs inputs that do not exist:\n"
        + "\n".join(lines)
        + (
            "\nTrain a model first with `kedro run` (the default pipelines), then "
            "run this command again."
            if trained
            else "\nRun the pipelines that make them first (`kedro run` makes all)."
        )
    )


def check_new_titles(catalog: DataCatalog) -> None:
    """Check the header of the new titles to assign before any node reads them.

    Raises:
        RawTitlesError: Naming the file and the column it lacks.
    """
    source = source_of(catalog, NEW_TITLES)
    columns = catalog.load("params:data_processing").columns
    check_new_titles_file(
        source["path"],
        columns,
        file_format=source["file_format"],
        load_args=source["load_args"],
    )


def check_titles(pipeline: Pipeline, catalog: DataCatalog) -> None:
    """Check the input titles against what the run will ask of them.

    Cleans the raw file as the pipeline will (or reads the cleaned table when
    the run starts from it) and checks the limits that depend on the data:
    titles left, distinct descriptions, ``n_clusters`` and t-SNE's perplexity
    when those pipelines are in the run. It happens before the first node, so
    a run that cannot finish leaves every earlier output as it was.
    """
    inputs = pipeline.inputs()
    if RAW_TITLES in inputs:
        described = source_of(catalog, RAW_TITLES)
        path = described["path"]
        params = catalog.load("params:data_processing")
        check_titles_header(
            path,
            params.columns,
            file_format=described["file_format"],
            load_args=described["load_args"],
        )
        raw = catalog.load(RAW_TITLES)
        titles = check_titles_table(raw, params.types, params.columns, str(path))
        cleaned, report = clean_catalogue(titles, params.types, params.required_columns)
        source = str(path)
    elif CLEAN_TITLES in inputs and catalog.exists(CLEAN_TITLES):
        cleaned, report = catalog.load(CLEAN_TITLES), None
        source = str(entry_path(entry_configs(catalog).get(CLEAN_TITLES, {})))
    else:
        return
    limits: dict[str, Any] = {}
    if "params:dec_clustering" in inputs:
        limits["n_clusters"] = catalog.load("params:dec_clustering").n_clusters
    if "params:visualization" in inputs:
        visualization = catalog.load("params:visualization")
        limits["perplexity"] = visualization.perplexity
        limits["max_points"] = visualization.max_points
    check_titles_left(cleaned, report, source, **limits)


def every_pipeline() -> dict[str, Pipeline]:
    """Each pipeline folder's pipeline, whichever ones this run loaded.

    Kedro's registry holds only the pipelines a run asked for (``--pipelines``),
    and the message should name the one that makes a missing input.
    """
    import netflix_dec.pipelines as package

    return {
        module.name: importlib.import_module(
            f"{package.__name__}.{module.name}"
        ).create_pipeline()
        for module in pkgutil.iter_modules(package.__path__)
        if module.ispkg
    }
