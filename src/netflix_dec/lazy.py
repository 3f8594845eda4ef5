"""Heavy libraries kept out of start-up: type names for node signatures, and pyplot.

``kedro run --pipelines data_processing``, ``kedro viz`` and ``kedro --help``
import every node module (to build the pipelines) but should not pay for
TensorFlow, seaborn or Bokeh, so node modules import those inside the functions
that use them.

Kedro also resolves every node's type hints (``typing.get_type_hints``) when a
run starts, to validate ``params:`` inputs against their Pydantic models. A hint
naming ``keras.Model`` would either import TensorFlow, or, left under
``TYPE_CHECKING`` alone, fail to resolve, and Kedro would then skip validation
and hand the node a plain dict. The names below are the real classes for a
type checker and ``Any`` at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

    from keras import Model as KerasModel
    from matplotlib.figure import Figure
else:
    KerasModel = Any
    Figure = Any

__all__ = ["Figure", "KerasModel", "pyplot"]


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` drawing off-screen: nodes draw to files, never to a screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
