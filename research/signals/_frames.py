"""Plumbing shared by the signal wrappers: frames to kernel arrays, parameter batches, and batch frames back.

A *batch frame* holds one result per parameter set side by side: its columns are a MultiIndex whose outer
levels are the batched parameters (in signature order) and whose last level is the entities, so
`frame[52]` (or `frame[(1, 4)]`) gives the plain frame of one parameter set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from research.errors import ConfigError, DataError

Param = Real | Sequence[Real] | np.ndarray


def as_array(x: Any, name: str) -> np.ndarray:
    """A plain (not batch) DataFrame as a C-contiguous float64 (T, N) array; NA becomes NaN."""
    if not isinstance(x, pd.DataFrame):
        raise DataError(f"{name}: expected a DataFrame (dates x entities), got {type(x).__name__}.")
    if isinstance(x.columns, pd.MultiIndex):
        raise DataError(f"{name}: this is a batch frame (columns {list(x.columns.names)}); "
                        "select one parameter set first, e.g. frame[key].")
    bad = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c].dtype)]
    if bad:
        raise DataError(f"{name}: column(s) {bad[:5]} are not numeric ({x[bad[0]].dtype}); "
                        "convert them with pd.to_numeric first.")
    return np.ascontiguousarray(x.to_numpy(dtype=np.float64, na_value=np.nan))


def check_same_labels(a: pd.DataFrame, b: pd.DataFrame, name_a: str, name_b: str) -> None:
    """Raise DataError unless two frames share index and columns exactly (signals never align silently)."""
    if not a.index.equals(b.index):
        diff = a.index.symmetric_difference(b.index)
        where = f"e.g. {diff[0]!r}" if len(diff) else "same dates in a different order"
        raise DataError(f"{name_a} and {name_b} have different dates ({where}); reindex one to the other.")
    if not a.columns.equals(b.columns):
        raise DataError(f"{name_a} and {name_b} have different columns: {list(a.columns)} vs {list(b.columns)}; "
                        "select or reorder the columns so that they match.")


def _is_seq(value: Any) -> bool:
    return isinstance(value, (list, tuple, range, np.ndarray, pd.Index, pd.Series)) and np.ndim(value) == 1


@dataclass(frozen=True)
class Batch:
    """P zipped parameter sets: parameters given as sequences are batched, scalars are shared by every set."""

    raw: dict[str, list[Any]]
    names: tuple[str, ...]
    keys: list[Any]

    @property
    def size(self) -> int:
        return len(self.keys)

    def ints(self, name: str, lo: int) -> np.ndarray:
        """Parameter `name` as int64, checked to be whole numbers >= lo."""
        vals = self.raw[name]
        for v in vals:
            if isinstance(v, bool) or not isinstance(v, Real) or v != int(v) or v < lo:
                raise ConfigError(f"{name} must be whole numbers >= {lo}; got {v!r}.")
        return np.array([int(v) for v in vals], dtype=np.int64)

    def floats(self, name: str) -> np.ndarray:
        """Parameter `name` as float64, checked to be numbers that are not NaN."""
        vals = self.raw[name]
        for v in vals:
            if isinstance(v, bool) or not isinstance(v, Real) or v != v:
                raise ConfigError(f"{name} must be numbers; got {v!r}.")
        return np.array(vals, dtype=np.float64)


def batch(**params: Any) -> Batch:
    """Zip parameters into P sets: sequences (equal lengths) are batched, scalars are broadcast.

    The batched parameters, in the order given, become the outer column levels of the result; with none
    batched the result is a plain frame.
    """
    seqs = {k: list(np.asarray(v).tolist()) for k, v in params.items() if _is_seq(v)}
    lengths = {k: len(v) for k, v in seqs.items()}
    if len(set(lengths.values())) > 1:
        raise ConfigError(f"batched parameters are zipped and need equal lengths; got {lengths}. "
                          "Use itertools.product to build a grid.")
    size = next(iter(lengths.values()), 1)
    if size == 0:
        raise ConfigError(f"empty parameter list for {', '.join(lengths)}.")
    raw = {k: seqs[k] if k in seqs else [v] * size for k, v in params.items()}
    names = tuple(seqs)
    if len(names) == 1:
        keys: list[Any] = seqs[names[0]]
    else:
        keys = list(zip(*(seqs[n] for n in names), strict=True)) if names else [None]
    if names and len(set(keys)) < len(keys):
        raise ConfigError(f"duplicate parameter sets for {', '.join(names)}: {keys}.")
    return Batch(raw=raw, names=names, keys=keys)


def batch_columns(columns: pd.Index, b: Batch) -> pd.MultiIndex:
    """Columns of a batch frame: (*batched parameter values, entity) for every set, entities innermost."""
    tuples = [(*(key if isinstance(key, tuple) else (key,)), col) for key in b.keys for col in columns]
    return pd.MultiIndex.from_tuples(tuples, names=[*b.names, columns.name])


def to_frame(out: np.ndarray, like: pd.DataFrame, b: Batch) -> pd.DataFrame:
    """A (P, T, N) kernel result with the labels of `like`: a plain frame, or a batch frame when batched."""
    if not b.names:
        return pd.DataFrame(out[0], index=like.index, columns=like.columns)
    P, T, N = out.shape
    data = out.transpose(1, 0, 2).reshape(T, P * N)
    return pd.DataFrame(data, index=like.index, columns=batch_columns(like.columns, b))


def split_batch(
    frame: pd.DataFrame, name: str, index: pd.Index | None = None, columns: pd.Index | None = None
) -> tuple[np.ndarray, Batch, pd.Index, pd.Index]:
    """A plain or batch frame as a (P, T, N) float64 array, its batch labels, its dates and its entities.

    Given `index` and `columns`, every parameter set must have exactly those dates and entities (entities may
    come in another order: they are put in `columns` order).
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{name}: expected a DataFrame, got {type(frame).__name__}.")
    if isinstance(frame.columns, pd.MultiIndex):
        names = tuple(frame.columns.names[:-1])
        keys = list(frame.columns.droplevel(-1).unique())
        subs = [(f"{name}[{key!r}]", frame[key]) for key in keys]
    else:
        names, keys, subs = (), [None], [(name, frame)]
    index = subs[0][1].index if index is None else index
    columns = subs[0][1].columns if columns is None else columns
    arrays = []
    for label, sub in subs:
        if len(sub.columns) != len(columns) or set(sub.columns) != set(columns):
            raise DataError(f"{label} has entities {list(sub.columns)}; expected {list(columns)}.")
        sub = sub[list(columns)]
        like = pd.DataFrame(index=index, columns=columns)
        check_same_labels(like, sub.set_axis(columns, axis=1), "scores", label)
        arrays.append(as_array(sub, label))
    return np.stack(arrays), Batch(raw={}, names=names, keys=keys), index, columns
