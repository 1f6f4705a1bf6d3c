"""A Gaussian copula over declared marginals: its correlation matrix, checked, and its factor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mirage.errors import SchemaError

__all__ = ["Copula", "copula_from_dict", "correlate", "factor_of", "nearest_correlation"]

_SYMMETRY = 1e-9
_PSD = -1e-10  # smallest eigenvalue still counted as 0


@dataclass(frozen=True)
class Copula:
    """``columns`` drawn jointly: normal scores ``z @ factor.T`` have correlation ``correlation``.

    ``repaired`` is True when the declared matrix was not positive semi-definite and ``repair: true``
    replaced it with the nearest correlation matrix (``declared`` keeps what the spec said)."""

    columns: tuple[str, ...]
    correlation: np.ndarray
    factor: np.ndarray
    repaired: bool = False
    declared: np.ndarray | None = None

    def to_dict(self) -> dict[str, Any]:
        matrix = self.declared if self.declared is not None else self.correlation
        out: dict[str, Any] = {"columns": list(self.columns), "correlation": np.round(matrix, 6).tolist()}
        if self.repaired:
            out["repair"] = True
        return out


def nearest_correlation(matrix: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Higham's (2002) alternating projections: the nearest correlation matrix in Frobenius norm."""
    y = matrix.copy()
    correction = np.zeros_like(y)
    for _ in range(iterations):
        r = y - correction
        w, v = np.linalg.eigh((r + r.T) / 2)
        x = (v * np.maximum(w, 0)) @ v.T
        correction = x - r
        y = x.copy()
        np.fill_diagonal(y, 1.0)
        if np.abs(y - x).max() < 1e-12:
            break
    w, v = np.linalg.eigh((y + y.T) / 2)
    y = (v * np.maximum(w, 1e-12)) @ v.T
    d = np.sqrt(np.diag(y))
    return np.asarray(y / np.outer(d, d))


def factor_of(correlation: np.ndarray) -> np.ndarray:
    """A matrix ``L`` with ``L @ L.T == correlation``: its Cholesky factor, or for a singular,
    semi-definite matrix one from its eigenvectors."""
    try:
        return np.asarray(np.linalg.cholesky(correlation))
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(correlation)
        return np.asarray(v * np.sqrt(np.maximum(w, 0.0)))


def correlate(factor: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``factor @ x`` for independent normal rows ``x`` (k x m), row by row: a few vector operations
    beat a BLAS call that a busy machine's threads slow down, and skip a triangular factor's zeros."""
    out = np.empty_like(x)
    for i in range(factor.shape[0]):
        terms = [j for j in range(factor.shape[1]) if factor[i, j] != 0]
        if not terms:
            out[i] = 0.0
            continue
        row = out[i]
        np.multiply(x[terms[0]], factor[i, terms[0]], out=row)
        for j in terms[1:]:
            row += factor[i, j] * x[j]
    return out


def copula_from_dict(data: Any, where: str) -> Copula:
    """``{"columns": [...], "correlation": [[...]], "repair": false}``; a matrix that is not a correlation
    matrix is refused, naming the entry, unless it is only not positive semi-definite and ``repair``."""
    if not isinstance(data, Mapping):
        raise SchemaError(f"{where}: expected an object with columns and correlation")
    unknown = sorted(set(data) - {"columns", "correlation", "repair"})
    if unknown:
        raise SchemaError(f"{where}.{unknown[0]}: unknown field (known: columns, correlation, repair)")
    columns = data.get("columns")
    if not isinstance(columns, list) or len(columns) < 2 or not all(isinstance(c, str) for c in columns):
        raise SchemaError(f"{where}.columns: expected two or more column names")
    if len(set(columns)) != len(columns):
        raise SchemaError(f"{where}.columns: a column appears twice")
    repair = data.get("repair", False)
    if not isinstance(repair, bool):
        raise SchemaError(f"{where}.repair: expected true or false")
    raw = data.get("correlation")
    k = len(columns)
    here = f"{where}.correlation"
    if (
        not isinstance(raw, list)
        or len(raw) != k
        or not all(isinstance(r, list) and len(r) == k for r in raw)
    ):
        raise SchemaError(f"{here}: expected a {k} x {k} matrix (one row per column)")
    for i, row in enumerate(raw):
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SchemaError(f"{here}[{i}][{j}]: expected a number, got {value!r}")
    matrix = np.array(raw, dtype="float64")
    for i in range(k):
        if abs(matrix[i, i] - 1.0) > _SYMMETRY:
            raise SchemaError(f"{here}[{i}][{i}]: a correlation matrix has 1 on its diagonal")
        for j in range(k):
            if abs(matrix[i, j]) > 1:
                raise SchemaError(
                    f"{here}[{i}][{j}]: a correlation is between -1 and 1, got {matrix[i, j]:g}"
                )
            if abs(matrix[i, j] - matrix[j, i]) > _SYMMETRY:
                raise SchemaError(
                    f"{here}[{i}][{j}]: the matrix is not symmetric ({matrix[i, j]:g} vs {matrix[j, i]:g})"
                )
    smallest = float(np.linalg.eigvalsh(matrix).min())
    if smallest >= _PSD:
        return Copula(tuple(columns), matrix, factor_of(matrix))
    if not repair:
        raise SchemaError(
            f"{here}: not a correlation matrix (not positive semi-definite: smallest eigenvalue "
            f"{smallest:.4g}); fix the correlations or set repair: true to use the nearest correlation matrix"
        )
    fixed = nearest_correlation(matrix)
    return Copula(tuple(columns), fixed, factor_of(fixed), repaired=True, declared=matrix)
