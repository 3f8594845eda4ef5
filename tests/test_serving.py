"""The served model: exported, served by `mlflow models serve`, against `assign`.

The model trained by the shared tracked `fast` run on the planted sample
(``swept_sample_run``, sentence features) is exported with
``kedro run --pipelines export_model``, served on a free loopback port, and
asked for the same titles the assign pipeline placed, training titles among
them, in other batch sizes and orders; then for what it must refuse.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netflix_dec.catalogue import ENV_VAR, NEW_TITLES_ENV_VAR, SAMPLE_PATH
from netflix_dec.serving_contract import check_request
from tests.support import latest

from .conftest import PROJECT_ROOT, run_kedro_session

PARAMS = {"encoding": {"features": "sentence"}}  # as the shared run trained
MODEL = "data/06_models/served_model"
NEW = [
    ("new-1", "Harbour Lights", "A fisherman's daughter falls for a sailor."),
    ("new-2", "Last Signal", "Astronauts stranded on Mars fight to get home."),
    ("new-3", "Kitchen Wars", "Chefs compete in a cooking contest."),
    ("new-4", "Static", "A quiet accountant collects old radios."),
]


# ---- without a trained model --------------------------------------------------------


def test_a_request_over_the_row_limit_is_refused_before_any_work():
    from mlflow.exceptions import MlflowException

    titles = pd.DataFrame(
        {"show_id": ["a", "b", "c"], "title": ["A", "B", "C"], "description": ["x"] * 3}
    )
    assert check_request(titles.set_index("show_id", drop=False), 3).index.tolist() == [
        0,
        1,
        2,
    ]
    with pytest.raises(
        MlflowException, match="3 titles in one request; the limit is 2"
    ):
        check_request(titles, max_rows=2)
    with pytest.raises(MlflowException, match=r"lack column\(s\) \['title'\]"):
        check_request(titles.drop(columns="title"), max_rows=5)
    with pytest.raises(MlflowException, match="no title"):
        check_request(titles.head(0), max_rows=5)
    error = pytest.raises(MlflowException, check_request, titles, 2).value
    assert error.get_http_status_code() == 400


# ---- the exported model, served -----------------------------------------------------


@pytest.fixture(scope="module")
def exported(swept_sample_run: Path, tmp_path_factory) -> dict:
    """A copy of the shared run, its model exported, `assign` run on the titles."""
    root = Path(
        shutil.copytree(swept_sample_run, tmp_path_factory.mktemp("serve") / "p")
    )
    raw = pd.read_csv(PROJECT_ROOT / SAMPLE_PATH, encoding="utf-8")
    clean = pd.read_csv(root / "data/03_primary/clean_titles.csv")
    # Training titles (seen) and new ones, one of them a training title retyped.
    trained = raw[raw["show_id"].isin(clean["show_id"])].head(12)
    titles = pd.concat(
        [
            trained[["show_id", "title", "description"]],
            pd.DataFrame(NEW, columns=["show_id", "title", "description"]),
            pd.DataFrame(
                {
                    "show_id": ["retyped"],
                    "title": [trained["title"].iloc[0].upper()],
                    "description": ["  " + trained["description"].iloc[0]],
                }
            ),
        ],
        ignore_index=True,
    )
    new_titles = root / "data/01_raw/new_titles.csv"
    titles.to_csv(new_titles, index=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENV_VAR, raising=False)
        patch.delenv("NETFLIX_DEC_TRACKING", raising=False)
        patch.setenv(NEW_TITLES_ENV_VAR, str(new_titles))
        patch.chdir(root)
        run_kedro_session(root, ["export_model"], env="fast", params=PARAMS)
        run_kedro_session(root, ["assign"], env="fast", params=PARAMS)
    assigned = pd.read_csv(root / "data/07_model_output/assigned_titles.csv")
    return {"root": root, "titles": titles, "assigned": assigned}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8")
        assert "Traceback" not in text, text
        return error.code, json.loads(text)


def _records(frame: pd.DataFrame) -> bytes:
    return json.dumps({"dataframe_records": frame.to_dict(orient="records")}).encode()


@pytest.fixture(scope="module")
def server(exported: dict):
    """`mlflow models serve` on a free loopback port; stopped after the tests."""
    port = _free_port()
    env = os.environ | {
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        # `mlflow models serve` starts `uvicorn` from PATH: the venv's, as an
        # activated venv would have it (make and CI call .venv/bin/pytest).
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    mlflow = Path(sys.executable).parent / "mlflow"
    log = (exported["root"] / "server.log").open("w")
    process = subprocess.Popen(
        [str(mlflow), "models", "serve", "-m", str(exported["root"] / MODEL)]
        + ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        cwd=exported["root"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its uvicorn worker is stopped with it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    output = (exported["root"] / "server.log").read_text()[-3000:]
                    pytest.fail(f"the model server did not start:\n{output}")
                time.sleep(1)
        yield f"{url}/invocations"
    finally:
        if process.poll() is None:  # a server that died is reported above
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _answers(url: str, titles: pd.DataFrame, batch: int) -> pd.DataFrame:
    parts = []
    for start in range(0, len(titles), batch):
        status, body = _post(url, _records(titles.iloc[start : start + batch]))
        assert status == 200, body
        parts.append(pd.DataFrame(body["predictions"]))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.slow
def test_the_served_model_answers_as_the_assign_pipeline_whatever_the_batch(
    exported: dict, server: str
):
    titles, assigned = exported["titles"], exported["assigned"]
    summary = json.loads(
        latest(exported["root"] / "data/08_reporting/cluster_summary.json").read_text()
    )
    names = {c["cluster"]: c["name"] for c in summary["clusters"]}
    expected = assigned.set_index("show_id")
    shuffled = titles.sample(frac=1, random_state=3)
    for frame, batch in ((titles, len(titles)), (shuffled, 5), (titles[::-1], 1)):
        answer = _answers(server, frame, batch)
        assert answer["show_id"].tolist() == frame["show_id"].tolist()  # in order
        answer = answer.set_index("show_id").loc[expected.index]
        for column in ("cluster", "runner_up", "novel", "seen"):
            assert answer[column].tolist() == expected[column].tolist(), column
        np.testing.assert_allclose(
            answer["confidence"], expected["confidence"], rtol=0, atol=1e-6
        )
        assert answer["cluster_name"].tolist() == [names[c] for c in answer["cluster"]]
    assert expected["seen"].sum() == 13  # the training titles, the retyped one too
    assert not expected.loc[[n[0] for n in NEW], "seen"].any()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.drop(columns="description"), "missing inputs ['description']"),
        (
            lambda t: t.assign(description=["  "] + ["ok"] * (len(t) - 1)),
            "no description",
        ),
        (lambda t: t.assign(show_id="same"), "show_id must identify one new title"),
        (lambda t: pd.concat([t] * 600, ignore_index=True), "the limit is 5000"),
    ],
    ids=["missing-column", "blank-description", "repeated-show-id", "too-many-rows"],
)
def test_a_bad_request_gets_a_400_saying_why(exported, server, change, expected):
    status, body = _post(server, _records(change(exported["titles"])))
    assert status == 400
    assert expected in body["message"], body["message"][-500:]


@pytest.mark.slow
def test_a_request_that_is_not_json_gets_a_400(server: str):
    status, body = _post(server, b"show_id,title,description\ns1,A,B")
    assert status == 400
    assert "valid JSON" in body["message"]


@pytest.mark.slow
def test_a_tracked_training_run_registers_a_model_that_loads_once_and_answers(
    swept_sample_run: Path, exported: dict, monkeypatch
):
    """The registered version, loaded in Python: MiniLM opened at load, not per call."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from netflix_dec import minilm
    from netflix_dec.encoders import sentence

    store = f"sqlite:///{swept_sample_run / 'mlflow.db'}"
    client = MlflowClient(store, registry_uri=store)
    (version,) = client.search_model_versions("name='netflix_dec_assigner'")
    run = client.get_run(version.run_id)  # the training run, not the sweep
    assert run.info.run_name == "__default__" and run.info.status == "FINISHED"

    opened = []
    build = minilm.MiniLMEncoder.from_installed_package.__func__

    def counting(cls, *args, **kwargs):
        opened.append(1)
        return build(cls, *args, **kwargs)

    monkeypatch.setattr(sentence, "_RESIDENT_ENCODERS", {})
    monkeypatch.setattr(
        minilm.MiniLMEncoder, "from_installed_package", classmethod(counting)
    )
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        mlflow.set_tracking_uri(store)
        mlflow.set_registry_uri(store)
        model = mlflow.pyfunc.load_model(
            f"models:/netflix_dec_assigner/{version.version}"
        )
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    assert len(opened) == 1  # at load time
    assert [c.name for c in model.metadata.get_input_schema().inputs] == [
        "show_id",
        "title",
        "description",
    ]
    titles, assigned = exported["titles"], exported["assigned"]
    for row in range(3):
        answer = model.predict(titles.iloc[[row]])
        assert answer["cluster"].tolist() == [assigned["cluster"].iloc[row]]
    assert len(opened) == 1  # not per request
