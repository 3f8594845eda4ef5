"""The parameters of each pipeline, checked when a run starts: their one home.

Kedro 1.7 validates a ``params:<group>`` node input against the node's type
hint when that hint is a Pydantic model: a typo such as ``featres: tfidf`` or a
value such as ``n_clusters: abc`` then fails as the catalogue is built, before
any node runs, with a message naming the key, the value and what is allowed.
The defaults live in ``conf/base/parameters_<pipeline>.yml`` only; these models
say what is allowed, not what is used.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from netflix_dec.catalogue import (
    ALWAYS_REQUIRED,
    COLUMNS,
    DEFAULT_REQUIRED_COLUMNS,
    KEY,
)

RawColumn = Literal[COLUMNS]  # type: ignore[valid-type]  # one of the 12
Seed = Field(ge=0, le=2**31 - 1, description="Seed of every random generator.")
# More encoding shards than this would be more nodes than any scheduler wants.
MAX_SHARDS = 1024
DEFAULT_SHARDS = 1


class _Params(BaseModel):
    """Strict, immutable parameter groups: unknown keys are errors, not ignored.

    Pydantic's lax mode, which lets ``"5"`` from a YAML string be 5, also
    takes ``true`` as 1: ``--params encoding.epochs=true`` would train one
    epoch. A boolean is therefore refused wherever a field does not allow one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for key, value in data.items():
            field = cls.model_fields.get(key)
            if field is None or _allows_bool(field.annotation):
                continue
            values = value if isinstance(value, list | tuple) else [value]
            if any(isinstance(item, bool) for item in values):
                raise ValueError(
                    f"{key}={value!r} holds a boolean; {key} takes "
                    f"{_describe_type(field.annotation)}, not true/false"
                )
        return data


def _allows_bool(annotation: Any) -> bool:
    """Whether ``annotation`` (or a type inside it) is ``bool``."""
    return annotation is bool or any(_allows_bool(arg) for arg in get_args(annotation))


def _describe_type(annotation: Any) -> str:
    """``list[PositiveInt | None]`` as "a list of int or null", for messages."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list:
        return f"a list of {_describe_type(args[0])}"
    if origin is Literal:
        return f"one of {list(args)}"
    if origin is Annotated:
        return _describe_type(args[0])
    if args:  # a union
        return " or ".join(_describe_type(arg) for arg in args)
    return "null" if annotation is type(None) else annotation.__name__


class DataProcessingParams(_Params):
    """``data_processing``: which titles to keep and how much to plot."""

    types: list[str] = Field(min_length=1)
    # Columns whose missing (or blank) value drops a row; others are filled.
    required_columns: list[RawColumn] = Field(
        default=list(DEFAULT_REQUIRED_COLUMNS), min_length=1
    )
    top_n: PositiveInt = Field(le=50)
    # The column map: the project's name -> the file's name, for a catalogue
    # (and the new titles to assign) whose headers differ; other columns are
    # found by name, case aside. Read in the catalogue package only.
    columns: dict[RawColumn, str] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _one_file_column_each(cls, value: dict[str, str]) -> dict[str, str]:
        blank = [project for project, theirs in value.items() if not theirs.strip()]
        if blank:
            raise ValueError(f"columns maps {blank} to an empty name; got {value}")
        theirs = [name.casefold() for name in value.values()]
        repeated = sorted({n for n in value.values() if theirs.count(n.casefold()) > 1})
        if repeated:
            raise ValueError(
                f"columns maps several project columns to {repeated}; each of the "
                f"file's columns can be one project column only; got {value}"
            )
        return value

    @field_validator("required_columns")
    @classmethod
    def _key_and_description_required(cls, value: list[str]) -> list[str]:
        absent = [column for column in ALWAYS_REQUIRED if column not in value]
        if absent:
            raise ValueError(
                f"required_columns must include {absent}: a title needs its "
                f"{KEY} to be traced through the run and its description to be "
                f"clustered; got {value}"
            )
        return value

    @field_validator("types")
    @classmethod
    def _types_not_blank(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError(f"types must be non-empty strings, got {value!r}")
        return value


class EncodingParams(_Params):
    """``encoding``: how descriptions become features, and the autoencoder."""

    features: Literal["tfidf", "sequence", "sentence"]
    embedding: Literal["auto", "umap", "features", "autoencoder"]
    max_words: int = Field(ge=2, le=1_000_000)
    # sequence: tokens kept per description (its first ones). A default here
    # too, so that configurations written before the cap keep working.
    max_length: int = Field(default=128, ge=1, le=100_000)
    dims: list[PositiveInt | None] = Field(min_length=2)
    activation: Literal["relu", "elu", "selu", "gelu", "tanh", "sigmoid"]
    optimizer: Literal["adam", "rmsprop", "sgd"]
    learning_rate: float = Field(gt=0, le=10)
    loss: Literal["mse", "binary_crossentropy"]
    epochs: PositiveInt
    # Stop once the reconstruction loss has not improved for this many epochs.
    early_stopping_patience: PositiveInt | None = 3
    batch_size: PositiveInt
    sentence_batch_size: PositiveInt
    # "auto": bfloat16 arithmetic where the CPU has native bfloat16, else float32.
    sentence_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    shards: int = Field(default=DEFAULT_SHARDS, ge=1, le=MAX_SHARDS)
    # embedding: umap (auto with sentence features): the UMAP clustering space.
    # Defaults here too, so that configurations written before it keep working.
    umap_components: int = Field(default=5, ge=2, le=100)
    umap_neighbors: int = Field(default=15, ge=2, le=200)
    umap_min_dist: float = Field(default=0.0, ge=0, le=1)
    umap_metric: Literal["cosine", "euclidean"] = "cosine"
    umap_epochs: int = Field(default=500, ge=10, le=5_000)
    umap_max_fit: int = Field(default=10_000, ge=100, le=1_000_000)
    umap_temperature: float = Field(default=0.05, gt=0, le=10)
    # Share of the words two descriptions share in UMAP's neighbour distance
    # (0: the features' neighbours alone, the default before it).
    umap_word_weight: float = Field(default=0.0, ge=0, lt=1)
    seed: int = Seed

    @field_validator("dims")
    @classmethod
    def _only_the_input_width_may_be_null(
        cls, value: list[int | None]
    ) -> list[int | None]:
        if any(width is None for width in value[1:]):
            raise ValueError(
                f"only dims[0] (the input width) may be null, got {value}; the other "
                "entries are layer widths down to the embedding"
            )
        return value


class DecClusteringParams(_Params):
    """``dec_clustering``: the clustering layer, its training and the report."""

    n_clusters: int = Field(ge=2, le=1_000)
    variant: Literal["idec", "dec"]
    gamma: float = Field(ge=0, le=100)
    alpha: float = Field(gt=0, le=100)
    batch_size: PositiveInt
    maxiter: PositiveInt
    update_interval: PositiveInt
    tol: float = Field(ge=0, lt=1)
    learning_rate: float = Field(gt=0, le=10)
    momentum: float = Field(ge=0, lt=1)
    kmeans_n_init: PositiveInt
    guard: Literal["silhouette", "none"]
    silhouette_sample: PositiveInt
    # Seeds of KMeans re-fitted on the clustering space for the stability score
    # in clustering_metrics.json (0: not measured). A default here too, so that
    # configurations written before it keep working.
    stability_seeds: int = Field(default=0, ge=0, le=20)
    top_words: PositiveInt = Field(le=50)
    examples: PositiveInt = Field(le=50)
    seed: int = Seed
    # previous: start from the previous run's clusters and keep their numbers
    # (netflix_dec.continuity); fresh: k-means++ starts, numbers from 0.
    continuity: Literal["previous", "fresh"] = "previous"
    # previous: the UMAP layout is followed (titles keep their positions) unless
    # more than this share of its titles are new or gone; then it is refitted.
    continuity_refit_share: float = Field(default=0.25, ge=0, le=1)

    @field_validator("stability_seeds")
    @classmethod
    def _none_or_a_pair(cls, value: int) -> int:
        if value == 1:
            raise ValueError(
                "stability_seeds=1 compares nothing: use 0 (off) or at least 2 seeds"
            )
        return value


class VisualizationParams(_Params):
    """``visualization``: the 2-D projection and the two plots."""

    projection_source: Literal["dec_embeddings", "embeddings", "features"]
    perplexity: float = Field(gt=1, le=200)
    max_iter: int = Field(ge=250, le=10_000)
    max_points: int = Field(ge=100, le=1_000_000)
    seed: int = Seed


class AssignParams(_Params):
    """``assign``: how new titles are flagged."""

    novelty_percentile: float = Field(
        ge=0,
        le=100,
        description="Percentile of the training confidences below which a title is novel.",
    )


def whole_numbers(value: Any) -> Any:
    """A list of whole numbers written as a string Kedro's ``--params`` accepts.

    Kedro splits ``--params`` on commas, so ``model_selection.n_clusters=[8,12]``
    cannot be written there. A string of numbers separated by semicolons
    (``"8;12;16"``) or an inclusive range ``"start..stop"`` or
    ``"start..stop..step"`` (``"8..20..4"`` is 8, 12, 16, 20) is taken as the
    list it names; any other value is left for the field's own check.
    """
    if not isinstance(value, str):
        return value
    text = value.strip().strip("[]")
    try:
        if ".." in text:
            parts = [int(part) for part in text.split("..")]
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] < 1):
                raise ValueError
            start, stop, step = (*parts, 1)[:3]
            return list(range(start, stop + 1, step))
        return [int(part) for part in text.replace(",", ";").split(";") if part.strip()]
    except ValueError:
        raise ValueError(
            f"{value!r} is not a list of whole numbers: write them separated by "
            'semicolons ("8;12;16") or as an inclusive range ("8..20", or '
            '"8..20..4" for a step of 4)'
        ) from None


class ExportModelParams(_Params):
    """``export_model``: the served model (``kedro run --pipelines export_model``)."""

    registered_model_name: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Name in the MLflow registry a tracked training run registers under.",
    )
    max_rows: PositiveInt = Field(
        le=1_000_000,
        description="Titles one request may hold; a larger request gets a 400.",
    )


class ModelSelectionParams(_Params):
    """``model_selection``: the n_clusters sweep and the rule that suggests one.

    ``n_clusters`` and ``seeds`` also take a string (:func:`whole_numbers`), so
    that a sweep can be set on the command line:
    ``--params "model_selection.n_clusters=8;12;16;20"``. One ``n_clusters``
    is a sweep too: it scores that one ``k`` (its silhouette and stability).
    """

    n_clusters: list[int] = Field(min_length=1)
    seeds: list[int] = Field(min_length=2)
    kmeans_n_init: PositiveInt = Field(le=100)
    min_stability: float = Field(ge=0, le=1)
    silhouette_sample: PositiveInt

    @field_validator("n_clusters", "seeds", mode="before")
    @classmethod
    def _lists_from_strings(cls, value: Any) -> Any:
        return whole_numbers(value)

    @field_validator("n_clusters")
    @classmethod
    def _distinct_cluster_counts(cls, value: list[int]) -> list[int]:
        if any(k < 2 or k > 1_000 for k in value) or len(set(value)) != len(value):
            raise ValueError(
                f"n_clusters must be distinct whole numbers from 2 to 1000, got {value}"
            )
        return value

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, value: list[int]) -> list[int]:
        if any(s < 0 or s > 2**31 - 1 for s in value) or len(set(value)) != len(value):
            raise ValueError(
                "seeds must be at least two distinct whole numbers from 0 to "
                f"2**31 - 1 (stability compares them), got {value}"
            )
        return value


def group_not_a_mapping(group: str, value: Any) -> str:
    """The message for a parameter group set to a single value (``encoding: 5``)."""
    return (
        f"Parameter group '{group}' must be a mapping of keys to values (such as "
        f"'{group}: {{key: value}}'), got {value!r}; check conf/*/parameters*.yml "
        f"(conf/local too) and --params ('{group}.<key>=<value>')."
    )


class ReportingParams(_Params):
    """``reporting``: the catalogue report's tables and what it says ran."""

    similar_titles: int = Field(ge=1, le=100)
    # Catalogues up to this size list every title's similar titles; larger
    # ones those of the explorer's titles and the example titles only.
    similar_titles_max_titles: int = Field(default=20_000, ge=1)
    top_classes: int = Field(ge=1, le=100)
    few_titles: int = Field(ge=1)
    # Years after this one are "recent" in the clusters' growth; null: the
    # median year titles were added.
    growth_since: int | None = Field(default=None, ge=1800, le=2200)
    examples: int = Field(ge=1, le=20)


# One group per pipeline, as named in conf/base/parameters_<pipeline>.yml.
PARAMETER_GROUPS: dict[str, type[_Params]] = {
    "data_processing": DataProcessingParams,
    "encoding": EncodingParams,
    "dec_clustering": DecClusteringParams,
    "visualization": VisualizationParams,
    "assign": AssignParams,
    "export_model": ExportModelParams,
    "model_selection": ModelSelectionParams,
    "reporting": ReportingParams,
}


def group_model(group: str, values: Any) -> _Params:
    """A parameter group as its model, as Kedro hands it to a node typed with it.

    Raises:
        pydantic.ValidationError: The values do not fit the group's model.
    """
    model = PARAMETER_GROUPS[group]
    return values if isinstance(values, model) else model.model_validate(values)


def check_parameter_groups(parameters: dict[str, Any]) -> dict[str, _Params]:
    """Refuse a parameter group no pipeline reads, or a group that is not valid.

    Kedro checks the keys inside a group against its model only when a node
    of the run reads it, and a misspelt group name
    (``dec_clusterng.n_clusters=8``) would be ignored without a word. Checking
    every group here means ``--pipelines data_processing --params
    encoding.epochs=true`` fails now, not on the next full run.

    Returns:
        Each group as its model.

    Raises:
        ValueError: Naming the unknown group (and the closest known one), the
            group that is not a mapping, or the group and key that are wrong.
    """
    unknown = sorted(set(parameters) - set(PARAMETER_GROUPS))
    if unknown:
        hints = [
            f"'{name}' (did you mean '{match[0]}'?)"
            if (match := get_close_matches(name, PARAMETER_GROUPS, n=1))
            else f"'{name}'"
            for name in unknown
        ]
        raise ValueError(
            f"Unknown parameter group(s) {', '.join(hints)}; the parameter groups are "
            f"{list(PARAMETER_GROUPS)}. Check conf/*/parameters*.yml and --params."
        )
    groups = {}
    for group, values in parameters.items():
        if not isinstance(values, dict | BaseModel):  # a model: Kedro validated it
            raise ValueError(group_not_a_mapping(group, values))
        try:
            groups[group] = group_model(group, values)
        except ValidationError as error:
            raise ValueError(
                f"Parameter group '{group}' is not valid (conf/*/parameters*.yml "
                f"or --params): {error}"
            ) from error
    return groups


def shards_of(parameters: dict[str, Any]) -> int:
    """``encoding.shards`` of a merged parameter tree, checked.

    Read before Kedro builds the pipelines (:mod:`netflix_dec.pipeline_shape`),
    when no group has been made its model yet: the same limits as
    :class:`EncodingParams`' ``shards``.

    Raises:
        ValueError: When the value is not a whole number from 1 to MAX_SHARDS.
    """
    encoding = parameters.get("encoding") or {}
    if not isinstance(encoding, dict):
        raise ValueError(group_not_a_mapping("encoding", encoding))
    value = encoding.get("shards", DEFAULT_SHARDS)
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            value = None
    if value is None or not 1 <= value <= MAX_SHARDS:
        raise ValueError(
            f"encoding.shards must be a whole number from 1 to {MAX_SHARDS}, got "
            f"{encoding.get('shards')!r} (conf/*/parameters_encoding.yml or --params)."
        )
    return value
