"""The parameters of each pipeline, checked when a run starts.

Kedro 1.7 validates a ``params:<group>`` node input against the node's type
hint when that hint is a Pydantic model: a typo such as ``featres: tfidf`` or a
value such as ``n_clusters: abc`` then fails as the catalogue is built, before
any node runs, with a message naming the key, the value and what is allowed.
The defaults live in ``conf/base/parameters_<pipeline>.yml`` only; these models
say what is allowed, not what is used.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

Seed = Field(ge=0, le=2**31 - 1, description="Seed of every random generator.")


class _Params(BaseModel):
    """Strict, immutable parameter groups: unknown keys are errors, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class DataProcessingParams(_Params):
    """``data_processing``: which titles to keep and how much to plot."""

    types: list[str] = Field(min_length=1)
    top_n: PositiveInt = Field(le=50)

    @field_validator("types")
    @classmethod
    def _types_not_blank(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError(f"types must be non-empty strings, got {value!r}")
        return value
