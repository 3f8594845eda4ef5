"""Parameter models: a boolean is never taken for a number (any group, any key)."""

from __future__ import annotations

import pytest
from kedro.config import OmegaConfigLoader
from pydantic import ValidationError

from netflix_dec.params import PARAMETER_GROUPS, _allows_bool

from .conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def base_parameters() -> dict:
    loader = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="local"
    )
    return loader["parameters"]


def _fields(group: str) -> list[str]:
    """The keys of a group that do not take a boolean."""
    fields = PARAMETER_GROUPS[group].model_fields
    return [key for key, field in fields.items() if not _allows_bool(field.annotation)]


@pytest.mark.parametrize(
    ("group", "key"),
    [(group, key) for group in PARAMETER_GROUPS for key in _fields(group)],
)
def test_every_key_of_every_group_refuses_a_boolean(base_parameters, group, key):
    values = dict(base_parameters[group])
    model = PARAMETER_GROUPS[group]
    model.model_validate(values)  # the base values pass
    current = values.get(key)
    values[key] = [True] if isinstance(current, list) else True
    with pytest.raises(ValidationError, match=rf"{key}=.*True.*boolean"):
        model.model_validate(values)


def test_numbers_from_the_command_line_still_pass(base_parameters):
    # `--params encoding.epochs=5` arrives as the int 5 (OmegaConf parses it).
    values = dict(base_parameters["encoding"], epochs=5, learning_rate=1)
    parsed = PARAMETER_GROUPS["encoding"].model_validate(values)
    assert parsed.epochs == 5
    assert parsed.learning_rate == 1.0


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("8;12;16;20", [8, 12, 16, 20]),
        ("8..20..4", [8, 12, 16, 20]),
        ("5..7", [5, 6, 7]),
    ],
)
def test_a_sweep_is_written_without_commas(written: str, expected: list[int]):
    from netflix_dec.params import ModelSelectionParams

    base = {"seeds": "0;1", "kmeans_n_init": 2, "min_stability": 0.5}
    params = ModelSelectionParams(n_clusters=written, silhouette_sample=10, **base)
    assert params.n_clusters == expected
    assert params.seeds == [0, 1]


@pytest.mark.parametrize("written", ["8;x", "8..20..0", "8..", "eight"])
def test_a_sweep_string_that_is_not_numbers_is_refused(written: str):
    from netflix_dec.params import ModelSelectionParams

    with pytest.raises(ValueError, match="semicolons"):
        ModelSelectionParams(
            n_clusters=written,
            seeds=[0, 1],
            kmeans_n_init=2,
            min_stability=0.5,
            silhouette_sample=10,
        )
