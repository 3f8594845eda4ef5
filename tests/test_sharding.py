"""Sharded encoding: the pipeline's shape from encoding.shards, and equal features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from netflix_dec.params import MAX_SHARDS, shards_of
from netflix_dec.pipelines.encoding import nodes
from netflix_dec.pipelines.encoding.pipeline import create_pipeline

from .pipelines.encoding.test_nodes import params


@pytest.fixture(scope="module")
def titles(sample_titles) -> pd.DataFrame:
    return sample_titles.dropna(subset=["description"]).head(103).reset_index(drop=True)


@pytest.mark.parametrize("n_titles,shards", [(103, 4), (10, 10), (7, 3), (5, 1)])
def test_shards_cover_every_title_once_in_order(n_titles: int, shards: int):
    rows = [
        list(range(*nodes.shard_bounds(n_titles, shard, shards)))
        for shard in range(shards)
    ]
    assert [row for shard in rows for row in shard] == list(range(n_titles))
    sizes = [len(shard) for shard in rows]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("features", ["tfidf", "sequence"])
def test_joined_shards_equal_the_unsharded_features(titles, features: str):
    settings = params(features=features, max_words=200)
    encoder = nodes.fit_text_encoder(titles, settings)
    whole = nodes.encode_descriptions(titles, encoder, None, settings)
    shards = [
        nodes.encode_shard(titles, encoder, None, settings, shard=index, shards=4)
        for index in range(4)
    ]
    # What the partitioned dataset hands the join: loaders by partition name.
    loaders = [
        {name: (lambda rows=rows: rows) for name, rows in shard.items()}
        for shard in shards
    ]
    joined = nodes.join_feature_shards(*loaders)
    assert sparse.issparse(joined) == sparse.issparse(whole)
    dense = joined.toarray() if sparse.issparse(joined) else joined
    expected = whole.toarray() if sparse.issparse(whole) else whole
    np.testing.assert_allclose(dense, expected, atol=1e-6)


def test_each_shard_stores_its_own_rows_in_the_feature_cache(titles, tmp_path: Path):
    from netflix_dec.encoders import from_settings
    from netflix_dec.storage.caches import FeatureCache

    settings = params(max_words=200)
    encoder = nodes.fit_text_encoder(titles, settings)
    cache = FeatureCache(path=str(tmp_path / "cache")).load()
    for index in range(3):
        nodes.encode_shard(titles, encoder, cache, settings, shard=index, shards=3)
    descriptions = titles["description"].astype(str).tolist()
    _, stats = from_settings(encoder).encode(descriptions, cache=cache)
    assert stats.computed == 0  # the shards cached every row between them
    assert stats.reused == len(set(descriptions))


def test_the_join_reads_only_this_runs_partitions():
    rows = np.arange(6, dtype=np.float32).reshape(3, 2)
    stale = {"0000-of-0003": lambda: rows * 0}  # an older run with 3 shards
    shard_0 = {"0000-of-0002": lambda: rows[:2], **stale}
    shard_1 = {"0001-of-0002": lambda: rows[2:], **stale}
    np.testing.assert_array_equal(nodes.join_feature_shards(shard_0, shard_1), rows)
    with pytest.raises(ValueError, match="0001-of-0002 is missing"):
        nodes.join_feature_shards(shard_0, stale)


def test_more_shards_than_titles_is_refused(titles):
    settings = params()
    encoder = nodes.fit_text_encoder(titles, settings)
    with pytest.raises(ValueError, match=r"encoding.shards=200 is more than the 103"):
        nodes.encode_shard(titles, encoder, None, settings, shard=0, shards=200)


def test_one_namespaced_node_per_shard_then_one_join():
    encoding = create_pipeline(shards=4)
    shard_nodes = [
        node for node in encoding.nodes if node.name.endswith("encode_shard")
    ]
    assert sorted(node.namespace for node in shard_nodes) == [
        f"encoding.shard_{index}" for index in range(4)
    ]
    [join] = [
        node for node in encoding.nodes if node.name.endswith("join_feature_shards")
    ]
    assert join.inputs == [f"feature_shard_{index}" for index in range(4)]
    assert encoding.only_nodes_with_outputs("features").nodes == [join]
    [fit] = encoding.only_nodes_with_outputs("text_encoder").nodes
    for shard in shard_nodes:  # the vocabulary is fitted once, before the shards
        assert fit in encoding.node_dependencies[shard]
    unsharded = create_pipeline(shards=1)
    assert not [n for n in unsharded.nodes if "shard" in n.name]


@pytest.mark.parametrize("value", [0, -2, MAX_SHARDS + 1, "many", True, 2.5])
def test_a_bad_shard_count_names_the_parameter(value):
    with pytest.raises(ValueError, match="encoding.shards must be a whole number"):
        shards_of({"encoding": {"shards": value}})


def test_shards_default_to_one_and_read_numbers_from_strings():
    assert shards_of({}) == 1
    assert shards_of({"encoding": {"shards": "4"}}) == 4


@pytest.mark.parametrize(
    "env,runtime,expected",
    [(None, None, 1), ("fast", {"encoding": {"shards": 3}}, 3), (None, None, 1)],
)
def test_the_session_builds_the_shards_its_parameters_ask_for(
    project_copy: Path, env, runtime, expected
):
    """`--params encoding.shards=3` and `--env` reach the pipeline's shape."""
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_copy)
    with KedroSession.create(
        project_path=project_copy, env=env, runtime_params=runtime
    ) as session:
        session.load_context()
        names = [node.name for node in pipelines["encoding"].nodes]
        default = [node.name for node in pipelines["__default__"].nodes]
    shard_names = [name for name in names if name.endswith(".encode_shard")]
    assert len(shard_names) == (expected if expected > 1 else 0)
    assert set(shard_names) <= set(default)


def test_an_environment_sets_the_shards(project_copy: Path):
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    sharded = project_copy / "conf" / "sharded"
    sharded.mkdir()
    (sharded / "parameters.yml").write_text("encoding:\n  shards: 2\n")
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="sharded") as session:
        session.load_context()
        namespaces = {node.namespace for node in pipelines["encoding"].nodes}
    assert {"encoding.shard_0", "encoding.shard_1"} <= namespaces


def test_the_shard_dataset_describes_itself(project_copy: Path):
    """kedro viz and the logs print a partitioned dataset through a dummy partition."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy) as session:
        shard = session.load_context().catalog.get("feature_shard_3")
    assert "NumpyDataset" in repr(shard)
    assert "data/04_feature/shards" in repr(shard)


@pytest.mark.slow
def test_kedro_viz_folds_the_shards_into_the_encoding_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import json

    from tests.support import kedro

    from .conftest import make_project_copy

    root = make_project_copy(tmp_path)
    (root / "conf/sharded").mkdir()
    (root / "conf/sharded/parameters.yml").write_text("encoding:\n  shards: 3\n")
    monkeypatch.setenv("KEDRO_ENV", "sharded")
    result = kedro(root, "viz", "build", "--include-hooks", timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    api = json.loads((root / "build/api/main").read_text(encoding="utf-8"))
    shards = {f"encoding.shard_{index}" for index in range(3)}
    children = {
        child["id"] for child in api["modular_pipelines"]["encoding"]["children"]
    }
    assert shards <= children  # collapsed inside encoding, not beside it
    top_level = {
        child["id"] for child in api["modular_pipelines"]["__root__"]["children"]
    }
    assert "encoding" in top_level and not shards & top_level
