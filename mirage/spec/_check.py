"""Does a dataset match its spec?  A test suite for the spec: each declared marginal, correlation,
children-per-parent distribution, null rate, rule and key is one check.

Statistical checks are tests at a family-wise level ``alpha`` (default 0.01): each check's p-value is
compared with ``alpha / number of statistical checks`` (Bonferroni), so a dataset drawn from the spec
fails the whole report at most 1% of the time.  Continuous marginals get a one-sample Kolmogorov-Smirnov
test against the declared CDF, discrete ones (categories, counts, whole numbers) a chi-square test of the
declared probabilities (with the total-variation distance shown), each on at most ``max_rows`` rows (the
sample size is stated).  A copula's correlation is checked on pairs of continuous columns: the observed
Spearman correlation against a Gaussian copula's ``6/pi * asin(r/2)``, through Fisher's z with the
standard error ``sqrt((1 + rho^2/2) / (n - 3))``.  Rules and keys must hold on every row.

A rule enforced by drawing rows again (an inequality, a range tighter than the distribution, ...) shapes
the marginals of the columns it reads: when it rejects many rows, their marginal checks show it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mirage.errors import DataError, SchemaError
from mirage.schema import Kind
from mirage.spec._distributions import Distribution, Truncated, Uniform, _Tabled
from mirage.spec._spec import ColumnSpec, Spec, TableSpec

__all__ = ["ALPHA", "Check", "SpecReport", "check_spec", "read_spec_data"]

ALPHA = 0.01
MAX_ROWS = 200_000
_MAX_WHOLE_VALUES = 1000  # whole numbers over a wider range get a KS test
_MIN_EXPECTED = 5.0  # chi-square bins with fewer expected rows are merged


@dataclass
class Check:
    """One check: ``kind`` (marginal, correlation, children, nulls, rule, keys), where, the test and its
    outcome.  ``passed`` is None for a check that was skipped (``detail`` says why)."""

    kind: str
    table: str
    subject: str
    test: str
    passed: bool | None
    n: int = 0
    statistic: float | None = None
    p_value: float | None = None
    detail: str = ""

    @property
    def statistical(self) -> bool:
        return self.p_value is not None


@dataclass
class SpecReport:
    checks: list[Check]
    alpha: float = ALPHA
    per_check_alpha: float = ALPHA
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed is not False for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "alpha": self.alpha,
            "per_check_alpha": self.per_check_alpha,
            "counts": {
                "checks": len(self.checks),
                "passed": sum(c.passed is True for c in self.checks),
                "failed": sum(c.passed is False for c in self.checks),
                "skipped": sum(c.passed is None for c in self.checks),
            },
            "notes": list(self.notes),
            "checks": [asdict(c) for c in self.checks],
        }

    def to_json(self, path: str | Path, *, force: bool = False) -> Path:
        from mirage.io import atomic_path

        target = Path(path)
        with atomic_path(target, force=force) as temp:
            temp.write_text(json.dumps(self.to_dict(), indent=2, default=_plain) + "\n", encoding="utf-8")
        return target

    def summary(self) -> str:
        counts = self.to_dict()["counts"]
        verdict = "PASSED" if self.passed else "FAILED"
        return (
            f"{verdict}: {counts['passed']} of {counts['checks']} checks passed, {counts['failed']} failed, "
            f"{counts['skipped']} skipped (tests at alpha {self.alpha:g} for the whole report, "
            f"{self.per_check_alpha:.2g} per check)"
        )


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


# the checks --------------------------------------------------------------------------------------------
def check_spec(
    spec: Spec,
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    alpha: float = ALPHA,
    max_rows: int = MAX_ROWS,
    seed: int = 0,
) -> SpecReport:
    """Check ``data`` (a DataFrame for a one-table spec, else tables by name) against ``spec``."""
    frames = {next(iter(spec.tables)): data} if isinstance(data, pd.DataFrame) else dict(data)
    missing = [t for t in spec.tables if t not in frames]
    if missing:
        raise DataError(f"table {missing[0]!r} of the spec is not in the data (tables: {', '.join(frames)})")
    rng = np.random.default_rng(seed)
    typed = {name: _typed_frame(spec.tables[name], frames[name]) for name in spec.tables}
    checks: list[Check] = []
    for name, table in spec.tables.items():
        frame = typed[name]
        checks += _column_checks(table, frame, rng, max_rows)
        checks += _copula_checks(table, frame, rng, max_rows)
        if table.per_parent is not None:
            checks.append(_children_check(spec, table, typed))
        checks += _rule_checks(table, frame)
    problems = spec.database.integrity_problems(typed)
    if len(spec.tables) > 1 or any(t.primary_key for t in spec.tables.values()):
        checks.append(
            Check(
                "keys",
                "",
                "primary and foreign keys",
                "every key valid",
                not problems,
                detail="; ".join(problems),
            )
        )
    statistical = [c for c in checks if c.statistical]
    per_check = alpha / max(len(statistical), 1)
    for check in statistical:
        assert check.p_value is not None
        check.passed = check.p_value >= per_check
    notes = [
        f"{len(statistical)} statistical checks at {per_check:.3g} each "
        f"(Bonferroni: alpha {alpha:g} for the report)"
    ]
    return SpecReport(checks, alpha, per_check, notes)


def _typed_frame(table: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The data's columns as the spec declares them (files give text for dates and codes)."""
    missing = [c for c in table.columns if c not in frame.columns]
    if missing:
        raise DataError(f"table {table.name!r}: column {missing[0]!r} of the spec is not in the data")
    out = frame.copy()
    for name, column in table.columns.items():
        values = out[name]
        if column.kind is Kind.NUMERIC:
            out[name] = pd.to_numeric(values, errors="coerce")
        elif column.kind is Kind.DATETIME and not pd.api.types.is_datetime64_any_dtype(values):
            out[name] = pd.to_datetime(values, errors="coerce", format="mixed")
        elif column.kind is Kind.BOOLEAN and not pd.api.types.is_bool_dtype(values):
            text = values.astype("string").str.strip().str.lower()
            out[name] = text.map({"true": True, "false": False, "1": True, "0": False}).astype("boolean")
        elif column.kind is Kind.CATEGORICAL:
            out[name] = (
                values.astype(object)
                .where(values.notna(), None)
                .map(lambda v: v if v is None or isinstance(v, str) else _label(v))
            )
    return out


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _numbers(column: ColumnSpec, values: pd.Series) -> np.ndarray:
    if column.kind is Kind.DATETIME:
        stamps = pd.to_datetime(values)
        days = (stamps - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        out = days.to_numpy(dtype="float64", na_value=np.nan)
        return out + 0.5 if column.date_only else out  # a whole day: its middle
    if column.kind in (Kind.BOOLEAN, Kind.CATEGORICAL):
        return values.astype(object).to_numpy()
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _subsample(values: np.ndarray, rng: np.random.Generator, max_rows: int) -> np.ndarray:
    if values.size <= max_rows:
        return values
    return np.asarray(values[np.sort(rng.choice(values.size, size=max_rows, replace=False))])


def _column_checks(
    table: TableSpec, frame: pd.DataFrame, rng: np.random.Generator, max_rows: int
) -> list[Check]:
    checks: list[Check] = []
    for name, column in table.columns.items():
        if column.key or column.kind is Kind.IDENTIFIER:
            continue
        values = frame[name]
        if column.distribution is not None or column.conditional is not None:
            checks.extend(_null_checks(table, column, values, frame))
        present = values.notna().to_numpy()
        if column.distribution is not None:
            checks.append(
                _marginal(table.name, name, column, column.distribution, values[present], rng, max_rows)
            )
        elif column.conditional is not None:
            given = frame[column.conditional.on].astype(object).to_numpy()
            matched = np.zeros(len(frame), dtype=bool)
            for label, dist in column.conditional.cases.items():
                mask = given == label
                matched |= mask
                subject = f"{name} given {column.conditional.on} = {label}"
                checks.append(
                    _marginal(table.name, subject, column, dist, values[mask & present], rng, max_rows)
                )
            default = column.conditional.default
            rest = ~matched & pd.notna(frame[column.conditional.on]).to_numpy()
            if default is not None and rest.any():
                subject = f"{name} given {column.conditional.on} not listed"
                checks.append(
                    _marginal(table.name, subject, column, default, values[rest & present], rng, max_rows)
                )
    return checks


def _null_checks(table: TableSpec, column: ColumnSpec, values: pd.Series, frame: pd.DataFrame) -> list[Check]:
    """The null rate, or one rate per listed value of ``nulls.given`` and one for the rows not listed."""
    if column.null_given is None:
        return [_null_check(table, f"{column.name} nulls", values, column.nulls)]
    given = frame[column.null_given].astype(object).to_numpy()
    matched = np.zeros(len(frame), dtype=bool)
    checks = []
    for label, rate in column.null_cases.items():
        mask = given == label
        matched |= mask
        subject = f"{column.name} nulls given {column.null_given} = {label}"
        checks.append(_null_check(table, subject, values[mask], rate))
    subject = f"{column.name} nulls given {column.null_given} not listed"
    checks.append(_null_check(table, subject, values[~matched], column.nulls))
    return checks


def _null_check(table: TableSpec, subject: str, values: pd.Series, rate: float) -> Check:
    n, nulls = len(values), int(values.isna().sum())
    if rate == 0 or n == 0:
        return Check(
            "nulls", table.name, subject, "no nulls declared", nulls == 0, n, detail=f"{nulls} null(s)"
        )
    p = float(stats.binomtest(nulls, n, rate).pvalue)
    detail = f"{nulls / n:.4f} null, {rate:g} declared"
    return Check("nulls", table.name, subject, "binomial", None, n, nulls / n, p, detail)


def _discrete(column: ColumnSpec, dist: Distribution) -> bool:
    """Tested value by value: a table of values, or whole numbers over a narrow range (over a wide one
    rounding moves the CDF too little for a KS test to see)."""
    if dist.discrete:
        return True
    if column.kind is not Kind.NUMERIC or not (column.integer or column.decimals == 0):
        return False
    ends = dist.ppf(np.array([1e-6, 1 - 1e-6]))
    return bool(ends[1] - ends[0] <= _MAX_WHOLE_VALUES)


def _marginal(
    table: str,
    subject: str,
    column: ColumnSpec,
    dist: Distribution,
    values: pd.Series,
    rng: np.random.Generator,
    max_rows: int,
) -> Check:
    x = _subsample(_numbers(column, values), rng, max_rows)
    n = int(x.size)
    if n < 2:
        return Check("marginal", table, subject, "-", None, n, detail="too few rows to test")
    if not _discrete(column, dist):
        result = stats.kstest(x.astype("float64"), dist.cdf)
        return Check(
            "marginal",
            table,
            subject,
            "Kolmogorov-Smirnov",
            None,
            n,
            float(result.statistic),
            float(result.pvalue),
        )
    probabilities = discrete_probabilities(dist, x)
    return _chi_square("marginal", table, subject, probabilities, x)


def discrete_probabilities(dist: Distribution, observed: np.ndarray) -> dict[Any, float]:
    """The declared probability of each value: a table's own, else whole numbers of a continuous
    distribution (``F(k + 1/2) - F(k - 1/2)``, truncation included)."""
    if isinstance(dist, _Tabled) or (isinstance(dist, Truncated) and isinstance(dist.base, _Tabled)):
        table = dist.probabilities() if isinstance(dist, (Truncated, _Tabled)) else {}
        return {
            (float(k) if isinstance(k, (int, float)) and not isinstance(k, bool) else k): p
            for k, p in table.items()
        }
    numbers = observed[~pd.isna(observed)].astype("float64")
    low, high = math.floor(dist.ppf(np.array([1e-9]))[0]), math.ceil(dist.ppf(np.array([1 - 1e-9]))[0])
    if numbers.size:
        low, high = min(low, int(numbers.min())), max(high, int(numbers.max()))
    k = np.arange(low, high + 1, dtype="float64")
    mass = dist.cdf(k + 0.5) - dist.cdf(k - 0.5)
    return {float(v): float(p) for v, p in zip(k, mass, strict=True) if p > 0}


def _chi_square(
    kind: str, table: str, subject: str, probabilities: Mapping[Any, float], x: np.ndarray
) -> Check:
    n = int(x.size)
    keys = [_key(v) for v in x.tolist()]
    counts = Counter(keys)
    undeclared = [v for v in counts if v not in probabilities]
    tv = 0.5 * sum(abs(counts.get(v, 0) / n - p) for v, p in probabilities.items())
    tv += 0.5 * sum(counts[v] / n for v in undeclared)
    if undeclared:
        detail = f"value {undeclared[0]!r} is not declared ({counts[undeclared[0]]} rows)"
        return Check(kind, table, subject, "chi-square", False, n, float(tv), 0.0, detail)
    observed, expected = [], []
    other_observed, other_expected = 0.0, 0.0
    for value, p in probabilities.items():
        if p * n >= _MIN_EXPECTED:
            observed.append(float(counts.get(value, 0)))
            expected.append(p * n)
        else:
            other_observed += float(counts.get(value, 0))
            other_expected += p * n
    if other_expected > 0 or other_observed > 0:
        observed.append(other_observed)
        expected.append(max(other_expected, 1e-12))
    detail = f"total variation distance {tv:.4f}"
    if len(observed) < 2:
        return Check(kind, table, subject, "chi-square", True, n, float(tv), None, detail + "; one value")
    scale = sum(observed) / sum(expected)
    result = stats.chisquare(observed, [e * scale for e in expected])
    return Check(
        kind, table, subject, "chi-square", None, n, float(result.statistic), float(result.pvalue), detail
    )


def _key(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return value


def _copula_checks(
    table: TableSpec, frame: pd.DataFrame, rng: np.random.Generator, max_rows: int
) -> list[Check]:
    copula = table.copula
    if copula is None:
        return []
    checks = []
    names = copula.columns
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            a, b = table.columns[names[i]], table.columns[names[j]]
            subject = f"{a.name} ~ {b.name}"
            r = float(copula.correlation[i, j])
            expected = 6 / math.pi * math.asin(r / 2)
            assert a.distribution is not None and b.distribution is not None
            if a.distribution.discrete or b.distribution.discrete:
                checks.append(
                    Check(
                        "correlation",
                        table.name,
                        subject,
                        "Spearman",
                        None,
                        detail="a discrete marginal's ties make the rank correlation smaller",
                    )
                )
                continue
            both = frame[[a.name, b.name]].dropna()
            x, y = _numbers(a, both[a.name]), _numbers(b, both[b.name])
            if x.size > max_rows:
                keep = np.sort(rng.choice(x.size, size=max_rows, replace=False))
                x, y = x[keep], y[keep]
            n = int(x.size)
            if n < 10:
                checks.append(
                    Check("correlation", table.name, subject, "Spearman", None, n, detail="too few rows")
                )
                continue
            observed = float(stats.spearmanr(x, y).statistic)
            se = math.sqrt((1 + expected**2 / 2) / (n - 3))
            z = (math.atanh(max(min(observed, 0.999999), -0.999999)) - math.atanh(expected)) / se
            p = float(2 * stats.norm.sf(abs(z)))
            detail = (
                f"Spearman {observed:.4f}, declared r {r:g} gives {expected:.4f} (standard error {se:.4f})"
            )
            checks.append(
                Check("correlation", table.name, subject, "Spearman (Fisher z)", None, n, observed, p, detail)
            )
    return checks


def _children_check(spec: Spec, table: TableSpec, frames: Mapping[str, pd.DataFrame]) -> Check:
    assert table.per_parent is not None
    parent, dist = table.per_parent
    fk = next(fk for fk in table.foreign_keys if fk.parent == parent)
    parents = frames[parent][fk.parent_columns[0]]
    counts = frames[table.name][fk.columns[0]].value_counts().reindex(parents, fill_value=0)
    x = counts.to_numpy(dtype="float64")
    if isinstance(dist, Uniform):
        low, high = int(np.ceil(dist.low)), int(np.floor(dist.high))
        probabilities = {float(k): 1 / (high - low + 1) for k in range(low, high + 1)}
    else:
        probabilities = discrete_probabilities(dist, x)
    return _chi_square("children", table.name, f"rows per {parent} row", probabilities, x)


def _rule_checks(table: TableSpec, frame: pd.DataFrame) -> list[Check]:
    checks = []
    for i, rule in enumerate(table.schema.rules):
        try:
            bad = int(rule.violations(frame, table.schema).sum())
        except (SchemaError, KeyError, TypeError, ValueError) as exc:
            checks.append(
                Check(
                    "rule",
                    table.name,
                    f"rules[{i}] {rule.describe()}",
                    "every row",
                    False,
                    len(frame),
                    detail=f"cannot be checked: {exc}",
                )
            )
            continue
        detail = f"{bad} row(s) break it" if bad else ""
        checks.append(
            Check("rule", table.name, f"{rule.describe()}", "every row", bad == 0, len(frame), detail=detail)
        )
    return checks


def read_spec_data(spec: Spec, source: str | Path) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """The data to check: a database URL, a folder of table files, or one file for a one-table spec."""
    from mirage.io import is_database_url, read_database, read_folder, read_table

    text = str(source)
    if is_database_url(text):
        return read_database(text)[1]
    path = Path(text)
    if path.is_dir():
        return read_folder(path)
    if not path.exists():
        raise DataError(f"data '{path}' does not exist")
    if not spec.single:
        raise DataError(
            f"'{path}' is one file; the spec has {len(spec.tables)} tables: give a folder or a database"
        )
    return read_table(path)
