"""Start-up stays light: building the pipelines, settings and catalogue imports
neither TensorFlow, Bokeh, seaborn, scikit-learn nor openTSNE, and Kedro still
validates parameters.

`kedro run --pipelines data_processing`, `kedro viz` and `kedro --help` import
every node module; TensorFlow alone takes seconds to import. The check runs in
a fresh interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import make_project_copy

HEAVY = ("tensorflow", "keras", "bokeh", "seaborn", "sklearn", "openTSNE")

PROBE = """
import json, sys, typing
from pathlib import Path

from kedro.framework.project import pipelines, settings
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.validation import TypeExtractor

root = Path(sys.argv[1])
bootstrap_project(root)
hooks = [type(hook).__name__ for hook in settings.HOOKS]
registry = {name: pipelines[name] for name in pipelines}
with KedroSession.create(project_path=root) as session:
    catalog = session.load_context().catalog
    params = {
        group: type(catalog.load(f"params:{group}")).__name__
        for group in ("data_processing", "encoding", "dec_clustering", "visualization")
    }
    datasets = list(catalog.keys())
requirements = TypeExtractor(registry).extract_types_from_pipelines()
unresolved = []
for node in registry["__default__"].nodes:
    try:
        typing.get_type_hints(node.func)
    except Exception as error:
        unresolved.append(f"{node.name}: {error}")
print(json.dumps({
    "hooks": hooks,
    "pipelines": sorted(registry),
    "datasets": len(datasets),
    "params": params,
    "requirements": {key: value.__name__ for key, value in requirements.items()},
    "unresolved": unresolved,
    "heavy": sorted(
        {name.split(".")[0] for name in sys.modules} & set(%r)
    ),
}))
"""


def test_building_pipelines_settings_and_catalogue_imports_nothing_heavy(
    tmp_path: Path,
):
    root = make_project_copy(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["heavy"] == [], f"imported at start-up: {found['heavy']}"
    assert {"data_processing", "encoding", "dec_clustering", "visualization"} <= set(
        found["pipelines"]
    )
    assert found["hooks"] and found["datasets"] > 10
    # Kedro resolves every node's hints to validate parameters: a hint it cannot
    # resolve would make it hand that node a plain dict.
    expected = {
        "data_processing": "DataProcessingParams",
        "encoding": "EncodingParams",
        "dec_clustering": "DecClusteringParams",
        "visualization": "VisualizationParams",
    }
    assert found["params"] == expected
    assert {k: v for k, v in found["requirements"].items() if k in expected} == expected
    assert found["unresolved"] == []
    # Kedro's own use of OmegaConf's deprecated resolver API would print four
    # warnings on every command; settings.py silences exactly those.
    assert "register_new_resolver" not in result.stdout + result.stderr
