"""Shared plumbing of the Display objects: lazy matplotlib, value checks."""

from collections.abc import Mapping

import numpy as np


def _pyplot(caller_name):
    """Import ``matplotlib.pyplot`` on first use, so importing alignkit does not load it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib, a dependency of alignkit that is "
            "missing from this environment; reinstall alignkit or `pip install matplotlib`."
        ) from exc
    return plt


def _as_series(values, n, name):
    """A finite float 1-D array of length ``n``, or a ValueError naming ``name``."""
    arr = np.asarray(values, dtype=float)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},); got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain finite values only; got {arr}.")
    return arr


def _as_labelled(values, name):
    """``values`` as an ordered dict ``label -> values``; a bare array gets ``name``."""
    if values is None:
        return {}
    if isinstance(values, Mapping):
        return dict(values)
    return {name: values}
