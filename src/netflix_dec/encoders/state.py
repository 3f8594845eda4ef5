"""The schema of the saved text encoder, ``text_encoder.json``.

The file is the encoder's :attr:`~netflix_dec.encoders.TextEncoder.settings`:
a JSON dict tagged by its ``"features"`` kind. Its format is the storage
contract (a run before any change must load after it), so it is checked here
field by field when the catalogue loads or saves it, and
:func:`netflix_dec.encoders.from_settings` turns it into an encoder object.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _EncoderState(BaseModel):
    # Keys a later version adds are kept (they are part of the settings key).
    model_config = ConfigDict(extra="allow", frozen=True)


class _WordEncoderState(_EncoderState):
    max_words: StrictInt = Field(ge=2)
    vocabulary_size: StrictInt = Field(ge=0)
    standardize: StrictStr
    vocabulary: list[StrictStr] = Field(min_length=1)

    @model_validator(mode="after")
    def _vocabulary_fits(self) -> _WordEncoderState:
        if len(self.vocabulary) > self.max_words:
            raise ValueError(
                f"{len(self.vocabulary)} words in the vocabulary, more than "
                f"max_words={self.max_words}"
            )
        return self


class TfidfEncoderState(_WordEncoderState):
    features: Literal["tfidf"]
    idf: list[FiniteFloat]

    @model_validator(mode="after")
    def _one_idf_per_word(self) -> TfidfEncoderState:
        if len(self.idf) != len(self.vocabulary):
            raise ValueError(
                f"{len(self.idf)} idf values for {len(self.vocabulary)} words"
            )
        return self


class SequenceEncoderState(_WordEncoderState):
    features: Literal["sequence"]
    sequence_length: StrictInt = Field(ge=1)
    scale_min: list[FiniteFloat]
    scale_max: list[FiniteFloat]

    @model_validator(mode="after")
    def _one_scale_per_position(self) -> SequenceEncoderState:
        for name in ("scale_min", "scale_max"):
            if len(getattr(self, name)) != self.sequence_length:
                raise ValueError(
                    f"{len(getattr(self, name))} {name} values for "
                    f"sequence_length={self.sequence_length}"
                )
        return self


class SentenceEncoderState(_EncoderState):
    features: Literal["sentence"]
    model: StrictStr
    max_length: StrictInt = Field(ge=1)
    precision: StrictStr
    width: StrictInt = Field(ge=1)


class TextEncoderState(BaseModel):
    """The schema of ``text_encoder.json`` (an encoder's ``settings``): types
    and sizes, checked when it is loaded or saved, so a damaged or hand-edited
    file stops the run naming the file instead of failing later with a
    ``KeyError`` or a shape error.
    """

    model_config = ConfigDict(frozen=True)

    state: Annotated[
        TfidfEncoderState | SequenceEncoderState | SentenceEncoderState,
        Field(discriminator="features"),
    ]

    @model_validator(mode="before")
    @classmethod
    def _whole_file(cls, data: Any) -> Any:
        return {"state": data}
