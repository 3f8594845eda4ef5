"""The catalogue: every dataset handed from one node to another is a file.

A dataset that lives only in memory cannot cross a process boundary, so a run
on Dask workers or as Airflow tasks would lose it between two nodes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT


def _handed_on(pipeline) -> set[str]:
    """Datasets some node of ``pipeline`` writes and another node reads."""
    produced = {name for node in pipeline.nodes for name in node.outputs}
    consumed = {name for node in pipeline.nodes for name in node.inputs}
    return produced & consumed


@pytest.mark.parametrize("env", [None, "fast"])
def test_every_dataset_between_nodes_is_persisted(env: str | None, project_copy: Path):
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env=env) as session:
        catalog = session.load_context().catalog
        handed_on = _handed_on(pipelines["__default__"])
        assert handed_on, "the default pipeline hands nothing on"
        in_memory = sorted(
            name
            for name in handed_on
            if name not in catalog or getattr(catalog.get(name), "_EPHEMERAL", False)
        )
    assert not in_memory, (
        f"only in memory, so lost between processes: {in_memory}; "
        f"add them to {PROJECT_ROOT.name}/conf/base/catalog.yml"
    )
