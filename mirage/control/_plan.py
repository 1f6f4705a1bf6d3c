"""How a model makes its rows satisfy the schema's rules.

At fit (:func:`learn_rules`) the training rows are checked against every rule (rows that break one
are reported, by row number) and rewritten so that most rules hold by construction:

- an inequality ``high >= low`` is learned as the difference ``high - low`` (dates in whole days,
  hours, minutes or seconds) in the column ``high``, and sampled as ``low`` plus that difference,
  never below 0;
- a formula's column is not learned: it is computed from its parts;
- allowed combinations are learned as one joint column (one category per combination).

What no transform can make hold (a range whose learned support lies outside it, uniqueness, a
format, a predicate, a rule whose column another rule already derives) is enforced on the drawn
rows: ranges are clipped where the learned support lies inside them, and rows that still break a
rule are drawn again, a bounded number of times (then a ``MirageError`` names the rule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mirage._warnings import warn
from mirage.control._rules import (
    AllowedCombinations,
    Formula,
    Inequality,
    Range,
    Rule,
    Unique,
    as_datetime,
    combination_keys,
    comparable,
    evaluate_formula,
)
from mirage.encoding.datetime import format_datetimes
from mirage.errors import DataError, MirageError
from mirage.schema._column import Column, Kind

__all__ = ["RulePlan", "learn_rules", "rule_violations"]

SHOWN_ROWS = 5
MAX_REDRAW_ROUNDS = 100
HOPELESS_REDRAWS = 20  # stop early when this many rounds fixed no row
DATE_UNITS = (("days", 86_400.0), ("hours", 3_600.0), ("minutes", 60.0), ("seconds", 1.0))


def rule_violations(rules: Sequence[Rule], data: pd.DataFrame, schema: Any) -> list[tuple[Rule, np.ndarray]]:
    """Each rule that rows of ``data`` break, with those rows' numbers (0-based)."""
    out = []
    for rule in rules:
        rows = np.flatnonzero(rule.violations(data, schema))
        if len(rows):
            out.append((rule, rows))
    return out


def _rows_text(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:SHOWN_ROWS])
    more = f" and {len(rows) - SHOWN_ROWS:,} more" if len(rows) > SHOWN_ROWS else ""
    if len(rows) == 1:
        return f"1 training row breaks it (row {shown}, counting from 0)"
    return f"{len(rows):,} training rows break it (rows {shown}{more}, counting from 0)"


@dataclass
class Derivation:
    """One column the engine learns in another form (``kind``: difference, formula or joint)."""

    kind: str
    target: str
    sources: tuple[str, ...]
    rule: int  # index in the schema's rules
    unit: float = 0.0  # difference of dates: seconds per learned unit; 0: numbers
    step: float = 0.0  # strict inequality: the smallest difference allowed
    expression: str = ""
    combinations: list[tuple[Any, ...]] = field(default_factory=list)
    learned_as: str = ""  # the engine's column (difference, joint); a name of its own, so that a model
    # file's schema column and codec of the same name never describe different values
    alone: str = ""  # difference: the engine's column of the later value where the earlier one is missing

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["sources"] = list(self.sources)
        out["combinations"] = [list(c) for c in self.combinations]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Derivation:
        values = dict(data)
        values["sources"] = tuple(values["sources"])
        values["combinations"] = [tuple(c) for c in values.get("combinations", [])]
        return cls(**values)


@dataclass
class RulePlan:
    """The rules of a fitted model: how each is made to hold, and the schema the engine learns."""

    schema: Any  # the user's Schema, with its rules
    engine_schema: Any  # the Schema the encoder and engine learn
    derivations: list[Derivation]
    clip: dict[int, bool]  # range rule index -> clipped (True) or redrawn
    learned: dict[int, list[tuple[Any, ...]]]  # allowed-combination rule index -> combinations seen

    @property
    def rules(self) -> list[Rule]:
        return list(self.schema.rules)

    def how(self) -> dict[str, str]:
        """Each rule's description -> how it is made to hold."""
        out = {}
        by_rule = {d.rule: d for d in self.derivations}
        for i, rule in enumerate(self.rules):
            d = by_rule.get(i)
            if d is not None:
                out[rule.describe()] = {
                    "difference": f"by construction: {d.target} learned as {d.target} - {d.sources[0]}",
                    "formula": f"by construction: {d.target} computed from {', '.join(d.sources)}",
                    "joint": f"by construction: {', '.join(d.sources)} learned as one joint column",
                }[d.kind]
            elif isinstance(rule, Range) and self.clip.get(i):
                out[rule.describe()] = "clipped (the learned values lie inside the range)"
            else:
                out[rule.describe()] = "rows that break it are drawn again (bounded)"
        return out

    def condition_filter(self, conditions: Mapping[str, Any], engine_filter: Callable[[Any], Any]) -> Any:
        """The row filter of ``conditions`` for a model with rules.

        Conditions on columns the engine learns as they are go to ``engine_filter`` (the engine's own,
        native where it can); those on a column a rule derives (an inequality's later column, a
        formula's result, a column of a joint combination) are tested on the rebuilt columns of the
        drawn rows: the bounded rejection fallback, which reports its acceptance rate when it fails.
        """
        from mirage.engines._conditions import Between, resolve_conditions

        derived = {c for d in self.derivations for c in (d.sources if d.kind == "joint" else (d.target,))}
        plain = {name: value for name, value in conditions.items() if name not in derived}
        ruled = resolve_conditions(
            {name: value for name, value in conditions.items() if name in derived}, self.schema
        )
        if not ruled:
            return engine_filter(plain)
        engine_accept = engine_filter(plain) if plain else None

        def accept(frame: pd.DataFrame) -> pd.Series:
            mask = np.ones(len(frame), dtype=bool)
            if engine_accept is not None:
                mask &= np.asarray(engine_accept(frame), dtype=bool)
            rebuilt = self.restore(frame)
            for column, condition in ruled.items():
                values = rebuilt[column]
                if isinstance(condition, Between) and self.schema[column].kind is Kind.DATETIME:
                    values = as_datetime(values, self.schema[column])  # text dates against date bounds
                mask &= condition.mask(values)
            return pd.Series(mask, index=frame.index)

        return accept

    # --- sampling -----------------------------------------------------------------------------
    def apply(
        self,
        frame: pd.DataFrame,
        redraw: Callable[[np.ndarray], pd.DataFrame],
        seen: dict[int, set[Any]] | None = None,
    ) -> pd.DataFrame:
        """Drawn rows (``frame``: the engine's columns) as the user's columns, every rule holding.

        ``redraw(rows)`` draws fresh rows (the engine's columns) in place of the block's ``rows``;
        ``seen``: the values of unique columns in earlier blocks of the same sample, updated.
        """
        out = self.restore(frame)
        unknown = self.unknown_combinations(frame)
        bad = self.breaking(out, seen) | unknown
        rounds, stuck = 0, 0
        keep = [name for name in out.columns if name in self._kept_columns()]
        while bad.any() and rounds < MAX_REDRAW_ROUNDS and stuck < HOPELESS_REDRAWS:
            rows = np.flatnonzero(bad)
            drawn = redraw(rows)
            unknown[rows] = self.unknown_combinations(drawn)
            fresh = self.restore(drawn).set_axis(out.index[rows])
            fresh[keep] = out.loc[out.index[rows], keep]
            out = pd.concat([out.drop(index=out.index[rows]), fresh]).sort_index()
            before = int(bad.sum())
            bad = self.breaking(out, seen) | unknown
            stuck = stuck + 1 if int(bad.sum()) >= before else 0
            rounds += 1
        if bad.any():
            raise MirageError(self._failure(out, unknown, seen))
        if seen is not None:
            for i, rule in enumerate(self.rules):
                if isinstance(rule, Unique):
                    seen.setdefault(i, set()).update(_unique_keys(out, rule))
        return out.reset_index(drop=True)

    def _kept_columns(self) -> set[str]:
        """Columns a redrawn row keeps (keys, made unique for the block's positions)."""
        used = {c for rule in self.rules for c in rule.used_columns}
        return {c.name for c in self.schema if c.kind is Kind.IDENTIFIER and c.name not in used}

    def breaking(self, frame: pd.DataFrame, seen: Mapping[int, set[Any]] | None = None) -> np.ndarray:
        bad = np.zeros(len(frame), dtype=bool)
        for i, rule in enumerate(self.rules):
            bad |= self._violations(i, rule, frame, seen)
        return bad

    def _violations(
        self, i: int, rule: Rule, frame: pd.DataFrame, seen: Mapping[int, set[Any]] | None
    ) -> np.ndarray:
        if isinstance(rule, AllowedCombinations):
            return rule.violations(frame, self.schema, learned=self.learned.get(i))
        found = rule.violations(frame, self.schema)
        if isinstance(rule, Unique) and seen is not None and seen.get(i):
            earlier = seen[i]
            found = found | np.array([k in earlier for k in _row_keys(frame, rule)], dtype=bool)
        return np.asarray(found, dtype=bool)

    def unknown_combinations(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of drawn engine columns whose joint column holds no learned combination (a rare one,
        folded by value protection)."""
        bad = np.zeros(len(frame), dtype=bool)
        for d in self.derivations:
            if d.kind == "joint":
                codes = pd.to_numeric(frame[d.learned_as].astype(object), errors="coerce")
                bad |= ~codes.between(0, len(d.combinations) - 1).to_numpy(dtype=bool)
        return bad

    def _failure(self, frame: pd.DataFrame, unknown: np.ndarray, seen: Mapping[int, set[Any]] | None) -> str:
        for i, rule in enumerate(self.rules):
            found = self._violations(i, rule, frame, seen)
            if isinstance(rule, AllowedCombinations) and any(d.rule == i for d in self.derivations):
                found = found | unknown
            rows = np.flatnonzero(found)
            if len(rows):
                return (
                    f"rule {rule.describe()}: {len(rows):,} of {len(frame):,} drawn rows still break it "
                    f"after drawing them again {MAX_REDRAW_ROUNDS} times at most; the model rarely "
                    "produces rows that satisfy it (too many rows asked of a unique column, or a rule "
                    "the training data mostly breaks): relax the rule or ask for fewer rows"
                )
        return "rows still break the rules"  # pragma: no cover

    def restore(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The engine's columns turned back into the user's: derived columns rebuilt, ranges clipped."""
        out = frame.reset_index(drop=True).copy()
        for d in _restore_order(self.derivations):
            if d.kind == "joint":
                _split_joint(out, d, self.schema)
            elif d.kind == "difference":
                _add_difference(out, d, self.schema)
            else:
                _compute_formula(out, d, self.schema)
        for i, rule in enumerate(self.rules):
            if isinstance(rule, Range) and self.clip.get(i):
                out[rule.column] = _clip(out[rule.column], rule, self.schema[rule.column])
        return out[[name for name in self.schema.names if name in out.columns]]  # all but keys and
        # generated values when only the learned columns were drawn (conditions test those)

    # --- rows given by the user, in the engine's columns ----------------------------------------
    def engine_frame(self, data: pd.DataFrame, *, holes: bool = False) -> pd.DataFrame:
        """User rows rewritten as the engine learned its training rows (differences, joint columns; a
        formula's result dropped, kept only where its parts are missing).  ``holes``: a joint column is
        missing where any of its columns is (for imputation); else an unseen combination is."""
        source = data.reset_index(drop=True)
        frame = source.copy()
        columns = {c.name: c for c in self.schema}
        for d in self.derivations:
            if d.kind == "joint":
                index = {k: str(j) for j, k in enumerate(d.combinations)}
                codes = [index.get(k) for k in combination_keys(source, d.sources)]
                if holes:
                    partial = source[list(d.sources)].isna().any(axis=1).to_numpy()
                    codes = [None if gap else code for code, gap in zip(codes, partial, strict=True)]
                frame = frame.drop(columns=list(d.sources))
                frame[d.learned_as] = pd.Series(codes, dtype=object)
                continue
            if d.kind == "formula":
                alone = source[list(d.sources)].isna().any(axis=1) & source[d.target].notna()
            else:
                high = comparable(source[d.target], columns[d.target])
                low = comparable(source[d.sources[0]], columns[d.sources[0]])
                diff = (high - low).dt.total_seconds() / d.unit if d.unit else high - low
                frame[d.learned_as] = pd.to_numeric(diff, errors="coerce").astype("float64")
                alone = source[d.sources[0]].isna() & source[d.target].notna()
            if d.alone:
                frame[d.alone] = source[d.target].where(alone, None)
            frame = frame.drop(columns=[d.target])
        return frame[self.engine_schema.names]

    def impute(
        self, data: pd.DataFrame, fill: Callable[[pd.DataFrame, int], pd.DataFrame]
    ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """The rows of ``data`` (the user's columns) rebuilt after imputation, and the holes the caller
        fills from them (column -> mask of missing cells): ``fill(frame, round)`` imputes
        rows in the engine's columns, which are then rebuilt (derived columns computed, so the rules
        hold where the row's observed cells let them).  A joint column drawn for a row that knows
        some of its columns is drawn again, a bounded number of times, until it agrees with them."""
        data_rows = data.reset_index(drop=True)
        learned = [c.name for c in self.schema if c.kind.learned and c.name in data_rows.columns]
        nulls = {name: data_rows[name].isna().to_numpy() for name in learned}
        holes = [name for name, mask in nulls.items() if mask.any()]
        if not holes:
            return data_rows, {}
        engine = self.engine_frame(data_rows, holes=True)
        restored = self.restore(fill(engine, 0))
        joints = [d for d in self.derivations if d.kind == "joint"]
        for attempt in range(1, MAX_REDRAW_ROUNDS):
            clash = np.zeros(len(data_rows), dtype=bool)
            for d in joints:
                for name in d.sources:
                    known = ~nulls.get(name, np.zeros(len(data_rows), dtype=bool))
                    drawn = restored[name].astype(object).to_numpy()
                    clash |= known & (drawn != data_rows[name].astype(object).to_numpy())
            if not clash.any():
                break
            rows = np.flatnonzero(clash)
            again = self.restore(fill(engine.iloc[rows].reset_index(drop=True), attempt))
            kept = restored.drop(index=restored.index[rows])
            restored = pd.concat([kept, again.set_axis(restored.index[rows])]).sort_index()
        return restored, {name: nulls[name] for name in holes}

    # --- model file ---------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "rules": [rule.to_dict() for rule in self.rules],
            "engine_schema": self.engine_schema.to_dict(),
            "derivations": [d.to_dict() for d in self.derivations],
            "clip": {str(k): v for k, v in self.clip.items()},
            "learned": {str(k): [list(c) for c in v] for k, v in self.learned.items()},
        }

    @classmethod
    def from_state(cls, schema: Any, state: Mapping[str, Any]) -> RulePlan:
        from mirage._validate import StateError
        from mirage.schema import Schema

        saved = state.get("rules")
        if saved != [rule.to_dict() for rule in schema.rules]:
            raise StateError(
                "rules", "differ from the schema's rules: rules cannot be edited in a model file; refit"
            )
        try:
            engine_schema = Schema.from_dict(dict(state["engine_schema"]))
            derivations = [Derivation.from_dict(d) for d in state["derivations"]]
            clip = {int(k): bool(v) for k, v in dict(state["clip"]).items()}
            learned = {int(k): [tuple(c) for c in v] for k, v in dict(state["learned"]).items()}
        except (KeyError, TypeError, ValueError, MirageError) as exc:
            raise StateError("", f"not a valid record of the rules ({exc})") from None
        return cls(schema, engine_schema, derivations, clip, learned)


def _row_keys(frame: pd.DataFrame, rule: Unique) -> list[tuple[Any, ...]]:
    return combination_keys(frame, rule.columns)


def _unique_keys(frame: pd.DataFrame, rule: Unique) -> set[tuple[Any, ...]]:
    return {k for k in _row_keys(frame, rule) if all(v is not None for v in k)}


def _restore_order(derivations: Sequence[Derivation]) -> list[Derivation]:
    """Derivations in an order where each one's sources are rebuilt before it."""
    pending = list(derivations)
    done: list[Derivation] = []
    while pending:
        targets = {t for d in pending for t in ((d.target,) if d.kind != "joint" else ())}
        ready = [d for d in pending if not (set(d.sources) & targets)]
        done.extend(ready)
        pending = [d for d in pending if d not in ready]
    return done


def _cast(values: pd.Series, column: Column) -> pd.Series:
    """Values in the column's dtype, as the encoder gives them back."""
    from mirage.encoding._table import _restore_string_dtype

    if column.kind is Kind.DATETIME:
        if column.datetime_format:
            text = format_datetimes(values, column.datetime_format)
            return _restore_string_dtype(text.astype(object).where(values.notna(), None), column.dtype)
        try:
            return values.astype(pd.api.types.pandas_dtype(column.dtype))
        except (TypeError, ValueError):
            return values
    if column.kind is Kind.NUMERIC:
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        if column.integer:
            numbers = numbers.round()
        elif column.decimals is not None:
            numbers = numbers.round(column.decimals)
        if numbers.isna().any() and "int" in column.dtype.lower():
            return numbers.astype("Int64")
        try:
            return numbers.astype(pd.api.types.pandas_dtype(column.dtype))
        except (TypeError, ValueError):
            return numbers
    try:
        return _restore_string_dtype(values.astype(pd.api.types.pandas_dtype(column.dtype)), column.dtype)
    except (TypeError, ValueError):
        return values


def _split_joint(out: pd.DataFrame, d: Derivation, schema: Any) -> None:
    codes = pd.to_numeric(out[d.learned_as].astype(object), errors="coerce")
    ok = codes.notna() & codes.between(0, len(d.combinations) - 1)
    index = codes.where(ok, 0).astype("int64").to_numpy()
    for j, name in enumerate(d.sources):
        values = [d.combinations[k][j] if d.combinations else None for k in index]
        series = pd.Series(values, dtype=object).where(ok.to_numpy(), None)
        out[name] = _cast(series, schema[name])


def _add_difference(out: pd.DataFrame, d: Derivation, schema: Any) -> None:
    column, base_column = schema[d.target], schema[d.sources[0]]
    diff = pd.to_numeric(out[d.learned_as], errors="coerce").astype("float64")
    diff = diff.clip(lower=d.step)
    if d.unit:
        base = as_datetime(out[d.sources[0]], base_column)
        seconds = (diff * d.unit).round()
        values = base + pd.to_timedelta(seconds, unit="s")
    else:
        values = comparable(out[d.sources[0]], base_column) + diff
    if d.alone:
        missing = out[d.sources[0]].isna()
        values = values.where(~missing, comparable(out[d.alone], column))
    out[d.target] = _cast(values, column)


def _compute_formula(out: pd.DataFrame, d: Derivation, schema: Any) -> None:
    column = schema[d.target]
    values = evaluate_formula(d.expression, out)
    if d.alone:  # a result given where its parts are missing: learned as it is
        missing = out[list(d.sources)].isna().any(axis=1)
        values = comparable(values, column).where(~missing, comparable(out[d.alone], column))
    out[d.target] = _cast(values, column)


def _clip(values: pd.Series, rule: Range, column: Column) -> pd.Series:
    low, high = rule.bounds()
    if column.kind is Kind.DATETIME:
        return _cast(as_datetime(values, column).clip(lower=low, upper=high), column)
    return _cast(pd.to_numeric(values, errors="coerce").clip(lower=low, upper=high), column)


# --- fit ------------------------------------------------------------------------------------------
def learn_rules(data: pd.DataFrame, schema: Any) -> tuple[RulePlan | None, pd.DataFrame, Any]:
    """The rules' plan, the frame the engine learns and its schema (no rules: None, ``data``, ``schema``).

    Training rows that break a rule are reported as ``schema.on_rule_violation`` says: ``"warn"``
    (the default), ``"error"`` (a ``DataError``) or ``"drop"`` (the rows are left out, with a warning).
    """
    rules = list(schema.rules)
    if not rules:
        return None, data, schema
    schema.check_rules()  # rules added after the schema was made are checked here
    data = _report_violations(rules, data, schema)
    frame = data.copy()  # the kept rows' index: a context is matched to it
    columns = {c.name: c for c in schema}
    derivations: list[Derivation] = []
    claimed: set[str] = set()  # columns a derivation rewrites or removes
    taken = set(schema.names)  # names the engine's columns cannot have
    learned: dict[int, list[tuple[Any, ...]]] = {}
    order = sorted(range(len(rules)), key=lambda i: _PRIORITY.get(type(rules[i]), 9))
    for i in order:
        rule = rules[i]
        if isinstance(rule, AllowedCombinations):
            keys = combination_keys(frame, rule.columns)
            learned[i] = sorted(set(keys), key=repr)
            if claimed & set(rule.columns):
                continue
            d = _joint(i, rule, learned[i], _fresh(" & ".join(rule.columns), taken))
            index = {k: str(j) for j, k in enumerate(learned[i])}
            frame = frame.drop(columns=list(rule.columns))
            frame[d.learned_as] = [index[k] for k in keys]
        elif isinstance(rule, Formula):
            if rule.column in claimed or _cycle(derivations, rule.column, rule.parts):
                continue
            d = Derivation("formula", rule.column, tuple(rule.parts), i, expression=rule.expression)
            partless = data[list(rule.parts)].isna().any(axis=1) & data[rule.column].notna()
            if partless.any():  # a result without its parts: learned as it is there
                d.alone = _fresh(f"{rule.column} without its parts", taken)
                taken.add(d.alone)
                frame[d.alone] = data[rule.column].where(partless, None)
            frame = frame.drop(columns=[rule.column])
        elif isinstance(rule, Inequality):
            if rule.high in claimed or rule.low in claimed or _cycle(derivations, rule.high, [rule.low]):
                continue
            d, diff = _difference(i, rule, data, columns, _fresh(f"{rule.high} - {rule.low}", taken))
            alone = (data[rule.low].isna() & data[rule.high].notna()).to_numpy()
            if alone.any():  # no difference to take there: the later value is learned as it is
                d.alone = _fresh(f"{rule.high} without {rule.low}", taken | {d.learned_as})
                taken.add(d.alone)
                frame[d.alone] = data[rule.high].where(alone, None)
            frame = frame.drop(columns=[rule.high])
            frame[d.learned_as] = diff
        else:
            continue
        derivations.append(d)
        taken.add(d.learned_as)
        claimed.update((d.target, *d.sources) if d.kind == "joint" else (d.target,))
    engine_schema = _engine_schema(schema, derivations, frame)
    clip = {
        i: _inside(rule, data, columns[rule.column])
        for i, rule in enumerate(rules)
        if isinstance(rule, Range)
    }
    plan = RulePlan(schema, engine_schema, derivations, clip, learned)
    return plan, frame[engine_schema.names], engine_schema


_PRIORITY: dict[type, int] = {Formula: 0, AllowedCombinations: 1, Inequality: 2}


def _cycle(derivations: Sequence[Derivation], target: str, sources: Sequence[str]) -> bool:
    """Whether deriving ``target`` from ``sources`` closes a loop with earlier derivations."""
    parents = {d.target: d.sources for d in derivations if d.kind != "joint"}
    stack, seen = list(sources), set()
    while stack:
        name = stack.pop()
        if name == target:
            return True
        if name not in seen:
            seen.add(name)
            stack.extend(parents.get(name, ()))
    return False


def _fresh(name: str, taken: set[str]) -> str:
    """``name``, or ``name`` with a number when a column has it already."""
    fresh, k = name, 2
    while fresh in taken:
        fresh, k = f"{name} ({k})", k + 1
    return fresh


def _joint(i: int, rule: AllowedCombinations, combos: list[tuple[Any, ...]], name: str) -> Derivation:
    return Derivation("joint", rule.columns[0], tuple(rule.columns), i, combinations=combos, learned_as=name)


def _difference(
    i: int, rule: Inequality, data: pd.DataFrame, columns: Mapping[str, Column], name: str
) -> tuple[Derivation, np.ndarray]:
    high_column, low_column = columns[rule.high], columns[rule.low]
    high = comparable(data[rule.high], high_column).reset_index(drop=True)
    low = comparable(data[rule.low], low_column).reset_index(drop=True)
    unit = 0.0
    if high_column.kind is Kind.DATETIME:
        seconds = (high - low).dt.total_seconds()
        present = seconds.dropna().to_numpy()
        unit = next((size for _, size in DATE_UNITS if np.all(np.mod(present, size) == 0)), 1.0)
        diff = seconds / unit
        step = 1.0 if rule.strict else 0.0
    else:
        diff = high - low
        whole = high_column.integer and low_column.integer
        positive = diff[diff > 0]
        step = (1.0 if whole else float(positive.min()) if len(positive) else 1e-9) if rule.strict else 0.0
    d = Derivation("difference", rule.high, (rule.low,), i, unit=unit, step=step, learned_as=name)
    return d, diff.to_numpy(dtype="float64", na_value=np.nan)


def _engine_schema(schema: Any, derivations: Sequence[Derivation], frame: pd.DataFrame) -> Any:
    from mirage.schema import Schema

    replaced: dict[str, list[Column]] = {}  # a user's column -> the engine's columns in its place
    for d in derivations:
        if d.kind == "formula":
            source = schema[d.target]
            replaced[d.target] = [dataclasses.replace(source, name=d.alone, nullable=True)] if d.alone else []
        elif d.kind == "joint":
            for name in d.sources[1:]:
                replaced[name] = []
            replaced[d.target] = [Column(d.learned_as, Kind.CATEGORICAL, dtype="object")]
        else:
            values = frame[d.learned_as]
            present = values.dropna()
            whole = bool(len(present)) and bool(np.all(np.mod(present.to_numpy(), 1) == 0))
            source = schema[d.target]
            decimals = None if whole or d.unit else source.decimals
            difference = Column(
                d.learned_as,
                Kind.NUMERIC,
                dtype="float64",
                nullable=bool(values.isna().any()),
                integer=whole,
                decimals=decimals,
            )
            alone = [dataclasses.replace(source, name=d.alone, nullable=True)] if d.alone else []
            replaced[d.target] = [difference, *alone]
    columns = []
    for column in schema:
        columns.extend(replaced.get(column.name, [column]))
    return Schema(columns=columns, locale=schema.locale, extra=dict(schema.extra))


def _inside(rule: Range, data: pd.DataFrame, column: Column) -> bool:
    """Whether the learned values lie inside the range (so clipping moves no real mass)."""
    values = comparable(data[rule.column], column).dropna()
    low, high = rule.bounds()
    if not len(values):
        return True
    return bool((low is None or values.min() >= low) and (high is None or values.max() <= high))


def _report_violations(rules: Sequence[Rule], data: pd.DataFrame, schema: Any) -> pd.DataFrame:
    found = rule_violations(rules, data, schema)
    if not found:
        return data
    policy = schema.on_rule_violation
    lines = [f"rule {rule.describe()}: {_rows_text(rows)}" for rule, rows in found]
    if policy == "error":
        raise DataError(
            f"the training data breaks the schema's rules: {'; '.join(lines)} (set the schema's "
            "on_rule_violation to 'drop' to leave these rows out, or to 'warn' to learn them anyway)"
        )
    if policy == "drop":
        rows = np.unique(np.concatenate([r for _, r in found]))
        warn(
            f"{'; '.join(lines)}: {len(rows):,} row{'' if len(rows) == 1 else 's'} left out of the "
            "training data"
        )
        return data.drop(index=data.index[rows])
    warn(
        f"{'; '.join(lines)}: learned anyway and the synthetic rows still satisfy the rule (set the "
        "schema's on_rule_violation to 'drop' to leave these rows out, or to 'error' to refuse them)"
    )
    return data
