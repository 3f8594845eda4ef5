"""Handing memory the process freed back to the system (glibc's ``malloc_trim``).

glibc keeps freed blocks in its heaps for reuse (one heap per thread that
allocated, and TensorFlow's and scikit-learn's thread pools make several), so
without a trim the resident size stays at its high-water mark after a model
or a node's arrays are dropped. Elsewhere (musl, macOS, Windows) there is
nothing to call, and trimming does nothing. No Kedro here.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache


@cache
def malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def trim_heap() -> None:
    """Returns the free pages of every heap to the system, where glibc allows."""
    trim = malloc_trim()
    if trim is not None:
        trim(0)
