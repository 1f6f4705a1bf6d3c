"""The engine conformance checks, on any table, gated by the engine's capability tags.

Each check is a method ``check_<what>`` of :class:`_EngineChecks`; one instance fits the engine on
the table once (lazily, on the first check that needs it) and every check reads that fit.  The
table is split 80/20 (seeded): the engine learns the first part, and the second stands for unseen
rows where a check needs them.
"""

from __future__ import annotations

import inspect
import json
import warnings
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from mirage.encoding.categorical import RARE_TOKEN
from mirage.engines._base import BLOCK_ROWS, MIN_TRAINING_ROWS, Synthesizer, clone
from mirage.engines._conditions import Between, NotNull
from mirage.engines._tags import EngineTags
from mirage.errors import DataError, MirageError, NotFittedError, OptionError
from mirage.schema import Kind, Schema, infer_schema

__all__ = ["ENGINE_CHECKS", "check_engine", "engine_checks"]

SAMPLE_ROWS = 2000
NULL_RATE_TOLERANCE = 0.05
COPY_TOLERANCE = 0.005
IMPUTE_ROWS = 200
HOLE_SHARE = 0.15
# a column drawn given a copy of itself as context agrees with it this much more than by chance
# (the share of the way from the chance agreement to full agreement)
CONTEXT_AGREEMENT = 0.5
CONTEXT_CORRELATION = 0.7


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _raises(kind: type[BaseException], call: Callable[[], Any], what: str, match: str = "") -> BaseException:
    try:
        call()
    except kind as exc:
        _expect(match in str(exc), f"{what}: expected {kind.__name__} mentioning {match!r}, got {exc!r}")
        return exc
    raise AssertionError(f"{what}: expected {kind.__name__}, nothing was raised")


def _state_fingerprint(model: Synthesizer) -> tuple[str, dict[str, np.ndarray]]:
    state, arrays = model.get_state()
    return json.dumps(state, sort_keys=True, default=str), {
        k: np.array(v, copy=True) for k, v in arrays.items()
    }


def _same_arrays(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype
        and a[k].shape == b[k].shape
        and np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f")
        for k in a
    )


class _EngineChecks:
    def __init__(
        self,
        engine_class: type[Synthesizer],
        data: pd.DataFrame,
        params: Mapping[str, Any] | None,
        schema: Schema | None,
        seed: int,
    ) -> None:
        if not isinstance(data, pd.DataFrame) or len(data) < 5 * MIN_TRAINING_ROWS:
            raise DataError(
                f"the conformance checks need a DataFrame of at least {5 * MIN_TRAINING_ROWS} rows"
            )
        self.cls = engine_class
        self.params = dict(params or {})
        self.data = data.reset_index(drop=True)
        self.original = self.data.copy(deep=True)
        self.schema = infer_schema(self.data) if schema is None else schema
        self.seed = seed
        order = np.random.default_rng(seed).permutation(len(self.data))
        cut = round(0.8 * len(order))
        self.train = self.data.iloc[np.sort(order[:cut])].reset_index(drop=True)
        self.holdout = self.data.iloc[np.sort(order[cut:])].reset_index(drop=True)
        self._model: Synthesizer | None = None
        self._sample: pd.DataFrame | None = None

    # --- shared fit -----------------------------------------------------------------------------
    def new(self) -> Synthesizer:
        return self.cls(**self.params)

    @property
    def model(self) -> Synthesizer:
        if self._model is None:
            self._model = self.new().fit(self.train, self.schema)
        return self._model

    @property
    def sample(self) -> pd.DataFrame:
        if self._sample is None:
            self._sample = self.model.sample(SAMPLE_ROWS, seed=self.seed + 1)
        return self._sample

    @property
    def tags(self) -> EngineTags:
        return self.cls.get_tags()

    def learned(self, *kinds: Kind) -> list[str]:
        return [c.name for c in self.schema if c.kind.learned and (not kinds or c.kind in kinds)]

    def kept_categories(self, column: str) -> pd.Series:
        """The training counts of the categories the model may emit (frequent enough), most frequent first."""
        counts = self.train[column].value_counts()
        return counts[counts >= self.model.encoding_.rare_min_count]

    # --- the contract ----------------------------------------------------------------------------
    def check_init_stores_keyword_only_hyperparameters(self) -> None:
        signature = inspect.signature(self.cls.__init__)
        params = [p for p in signature.parameters.values() if p.name != "self"]
        _expect(all(p.kind is p.KEYWORD_ONLY for p in params), "__init__ takes keyword-only hyperparameters")
        _expect(
            {p.name for p in params} == set(self.cls.params),
            f"params declares {sorted(self.cls.params)} but __init__ takes {sorted(p.name for p in params)}",
        )
        model = self.cls()
        _expect(model.get_params() == {p.name: p.default for p in params}, "get_params gives the defaults")
        _expect(not [a for a in vars(model) if a.endswith("_")], "__init__ sets no learned attribute")
        _raises(TypeError, lambda: self.cls(1), "a positional argument")
        _raises(
            OptionError, lambda: self.cls(no_such_hyperparameter=1), "an unknown hyperparameter", "valid:"
        )

    def check_tags(self) -> None:
        tags = self.cls.get_tags()
        _expect(isinstance(tags, EngineTags), f"get_tags gives an EngineTags, got {type(tags).__name__}")
        _expect(
            tags.privacy_guard == (self.cls.privacy_knob is not None), "privacy_guard follows privacy_knob"
        )
        if tags.privacy_guard:
            _expect("max_dcr_share" in self.cls.params, "an engine with a privacy knob takes max_dcr_share")

    def check_not_fitted(self) -> None:
        model = self.new()
        _raises(NotFittedError, lambda: model.sample(3), "sample before fit", "fit")
        _raises(NotFittedError, lambda: model.get_state(), "get_state before fit", "fit")

    def check_fit_returns_self_and_learns_into_underscore_attributes(self) -> None:
        model = self.new()
        before = dict(vars(model))
        _expect(model.fit(self.train, self.schema) is model, "fit returns the model")
        _expect(model.is_fitted, "a fitted model says is_fitted")
        new = [a for a in vars(model) if a not in before and not a.endswith("_")]
        _expect(not new, f"fit set attributes that do not end in '_': {new}")
        _expect(model.get_params() == self.new().get_params(), "fit leaves the hyperparameters as given")

    def check_input_frame_and_schema_not_mutated(self) -> None:
        schema_before = self.schema.to_json()
        self.model.sample(50, seed=self.seed)
        pd.testing.assert_frame_equal(self.data, self.original)
        _expect(self.schema.to_json() == schema_before, "fit left the user's schema as it was")

    def check_a_failed_fit_leaves_no_learned_attribute(self) -> None:
        model = self.new()

        def fail(*args: Any) -> None:
            raise KeyboardInterrupt

        model._fit = fail  # type: ignore[method-assign, assignment]
        _raises(KeyboardInterrupt, lambda: model.fit(self.train, self.schema), "an interrupted fit")
        _expect(not model.is_fitted, "an interrupted fit leaves the model unfitted")
        left = [a for a in vars(model) if a.endswith("_")]
        _expect(not left, f"an interrupted fit left learned attributes {left}")

    def check_too_few_rows_is_a_clear_error(self) -> None:
        few = self.train.head(MIN_TRAINING_ROWS - 1)
        with warnings.catch_warnings():  # what schema inference says of so few rows is not checked here
            warnings.simplefilter("ignore")
            _raises(
                DataError, lambda: self.new().fit(few), "too few rows", f"at least {MIN_TRAINING_ROWS} rows"
            )
            _raises(DataError, lambda: self.new().fit(self.train.head(0)), "no rows", "no rows")

    def check_clone_and_set_params(self) -> None:
        copy = clone(self.model)
        _expect(type(copy) is self.cls and not copy.is_fitted, "clone gives a new unfitted engine")
        _expect(copy.get_params() == self.model.get_params(), "clone keeps the hyperparameters")
        _expect(copy.set_params(seed=self.seed + 1) is copy, "set_params returns the model")
        _expect(copy.get_params()["seed"] == self.seed + 1, "set_params sets")
        _raises(
            OptionError, lambda: copy.set_params(no_such_hyperparameter=1), "set_params(unknown)", "valid:"
        )

    # --- sampling --------------------------------------------------------------------------------
    def check_columns_order_and_dtypes(self) -> None:
        synth = self.sample
        _expect(list(synth.columns) == list(self.train.columns), "columns in the training order")
        _expect(
            len(synth) == SAMPLE_ROWS, f"sample({SAMPLE_ROWS}) gives {SAMPLE_ROWS} rows, got {len(synth)}"
        )
        for column in self.train.columns:
            _expect(synth[column].dtype == self.train[column].dtype, f"{column}: dtype {synth[column].dtype}")

    def check_values_within_bounds_and_learned_categories(self) -> None:
        synth = self.sample
        for column in self.schema:
            real, fake = self.train[column.name].dropna(), synth[column.name].dropna()
            if column.kind in (Kind.NUMERIC, Kind.DATETIME) and len(real) and len(fake):
                _expect(fake.min() >= real.min() and fake.max() <= real.max(), f"{column.name}: out of range")
            if column.kind is Kind.CATEGORICAL:
                allowed = set(self.kept_categories(column.name).index) | {RARE_TOKEN}
                extra = set(fake.unique()) - allowed
                _expect(
                    not extra,
                    f"{column.name}: emits values never learned or too rare: {sorted(map(str, extra))[:5]}",
                )

    def check_null_rates(self) -> None:
        for column in self.train.columns:
            gap = abs(self.sample[column].isna().mean() - self.train[column].isna().mean())
            _expect(gap < NULL_RATE_TOLERANCE, f"{column}: null rate off by {gap:.3f}")

    def check_copies_no_more_often_than_unseen_rows(self) -> None:
        keys = set(map(tuple, self.train.astype(str).to_numpy()))

        def copy_rate(rows: pd.DataFrame) -> float:
            return float(np.mean([tuple(r) in keys for r in rows.astype(str).to_numpy()]))

        synth = self.model.sample(len(self.holdout), seed=self.seed + 2)
        fake, real = copy_rate(synth), copy_rate(self.holdout)
        _expect(fake <= real + COPY_TOLERANCE, f"copies {fake:.3f} of its rows, unseen rows {real:.3f}")

    def check_same_seed_same_rows(self) -> None:
        a, b = self.model.sample(300, seed=7), self.model.sample(300, seed=7)
        pd.testing.assert_frame_equal(a, b)
        c = self.model.sample(300, seed=8)
        if len(a.drop_duplicates()) > 1:
            _expect(not a.equals(c), "another seed gives other rows")

    def check_fit_idempotence(self) -> None:
        if self.tags.differential_privacy:
            return  # each fit draws fresh noise from a secure source, never seeded: only sampling repeats
        again = self.new().fit(self.train, self.schema)
        pd.testing.assert_frame_equal(again.sample(300, seed=5), self.model.sample(300, seed=5))
        twice = self.new().fit(self.holdout, self.schema).fit(self.train, self.schema)
        pd.testing.assert_frame_equal(twice.sample(300, seed=5), self.model.sample(300, seed=5))

    def check_model_unchanged_by_sampling(self) -> None:
        state, arrays = _state_fingerprint(self.model)
        params = self.model.get_params()
        self.model.sample(500, seed=11)
        for name in self._condition_columns()[:1]:
            value = self.kept_categories(name).index[0]
            self.model.sample(20, seed=11, conditions={name: value})
        if self.tags.impute:
            self.model.impute(self._holed(), seed=1)
        if self.tags.log_prob:
            self.model.log_prob(self.train.head(50))
        after_state, after_arrays = _state_fingerprint(self.model)
        _expect(after_state == state, "sampling changed the learned state")
        _expect(_same_arrays(arrays, after_arrays), "sampling changed the learned arrays")
        _expect(self.model.get_params() == params, "sampling changed the hyperparameters")

    def check_chunks_concatenate_to_the_same_sample(self) -> None:
        n = BLOCK_ROWS + 100
        chunks = list(self.model.sample_chunks(n, seed=9))
        _expect(len(chunks) == 2, f"sample_chunks({n}) yields 2 blocks, got {len(chunks)}")
        pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), self.model.sample(n, seed=9))

    def check_zero_rows_and_bad_n(self) -> None:
        empty = self.model.sample(0, seed=1)
        _expect(list(empty.columns) == list(self.train.columns) and len(empty) == 0, "sample(0)")
        for column in self.train.columns:
            _expect(empty[column].dtype == self.train[column].dtype, f"sample(0): {column} dtype")
        bad_n: tuple[Any, ...] = (-1, 1.5, "10", True)
        for bad in bad_n:
            _raises(OptionError, partial(self.model.sample, bad), f"sample({bad!r})", "n must be")

    def check_model_file_round_trip(self) -> None:
        import io

        from mirage.model_file import load_model

        buffer = io.BytesIO()
        self.model.save(buffer)
        loaded = load_model(buffer.getvalue())
        _expect(type(loaded) is self.cls, f"loading gives a {type(loaded).__name__}")
        _expect(loaded.get_params() == self.model.get_params(), "loading keeps the hyperparameters")
        pd.testing.assert_frame_equal(loaded.sample(500, seed=3), self.model.sample(500, seed=3))

    # --- capabilities ------------------------------------------------------------------------------
    def _condition_columns(self) -> list[str]:
        return [
            name
            for name in self.learned(Kind.CATEGORICAL, Kind.BOOLEAN)
            if len(self.kept_categories(name)) >= 2
        ]

    def check_conditions(self) -> None:
        columns = self._condition_columns()
        if columns:
            name = columns[0]
            kept = self.kept_categories(name)
            # engines that condition natively must reach a rare value; rejection needs a frequent one
            value = kept.index[-1] if self.tags.native_conditions else kept.index[0]
            synth = self.model.sample(100, seed=13, conditions={name: value})
            _expect(len(synth) == 100, "a conditioned sample has the rows asked for")
            _expect(bool((synth[name] == value).all()), f"conditions={{{name!r}: {value!r}}} is met")
            both = list(kept.index[:2])
            synth = self.model.sample(100, seed=13, conditions={name: both})
            _expect(bool(synth[name].isin(both).all()), f"conditions={{{name!r}: {both!r}}} is met")
            _raises(
                MirageError,
                lambda: self.model.sample(5, seed=1, conditions={name: "\x00 never seen"}),
                "an impossible condition",
                "acceptance rate",
            )
        for name in self.learned(Kind.NUMERIC)[:1]:
            values = self.train[name].dropna()
            low, high = float(values.quantile(0.25)), float(values.quantile(0.75))
            if low < high:
                synth = self.model.sample(100, seed=13, conditions={name: Between(low, high)})
                _expect(bool(synth[name].between(low, high).all()), f"{name}: Between({low}, {high}) is met")
            synth = self.model.sample(50, seed=13, conditions={name: NotNull()})
            _expect(bool(synth[name].notna().all()), f"{name}: NotNull() is met")
        _raises(
            OptionError, lambda: self.model.sample(5, conditions={"\x00nope": 1}), "unknown column", "nope"
        )

    def _holed(self) -> pd.DataFrame:
        frame = self.train.head(IMPUTE_ROWS).copy()
        rng = np.random.default_rng(self.seed)
        for name in self.learned():
            holes = rng.random(len(frame)) < HOLE_SHARE
            frame[name] = frame[name].mask(holes)
        return frame

    def check_impute(self) -> None:
        holed = self._holed()
        if not self.tags.impute:
            _raises(OptionError, lambda: self.model.impute(holed), "impute without the impute tag", "impute")
            return
        before = holed.copy(deep=True)
        filled = self.model.impute(holed, seed=3)
        pd.testing.assert_frame_equal(holed, before)
        _expect(
            list(filled.columns) == list(holed.columns) and len(filled) == len(holed), "impute keeps shape"
        )
        for name in self.learned():
            holes = holed[name].isna().to_numpy()
            _expect(bool(filled[name][holes].notna().all()), f"{name}: impute left a missing cell")
            kept = filled[name][~holes].astype(object).to_numpy()
            _expect(
                bool((kept == holed[name][~holes].astype(object).to_numpy()).all()),
                f"{name}: observed cell changed",
            )
        pd.testing.assert_frame_equal(self.model.impute(holed, seed=3), filled)

    def check_scenario(self) -> None:
        """A scenario keeps the columns and dtypes, sets a value exactly, and is reproducible by seed;
        an engine without the ``scenario`` tag refuses one."""
        if not self.tags.scenario:
            column = self.learned()[0]
            value = self.train[column].dropna().iloc[0]
            _raises(
                OptionError,
                lambda: self.model.sample(10, seed=19, scenario={"set": {column: value}}),
                "a scenario without the scenario tag",
                "scenario",
            )
            return
        numeric = [name for name in self.learned(Kind.NUMERIC) if self.train[name].nunique() > 1]
        columns = self._condition_columns()
        if columns:
            name = columns[0]
            value = self.kept_categories(name).index[0]
            synth = self.model.sample(100, seed=19, scenario={"set": {name: value}})
            _expect(bool((synth[name] == value).all()), f"scenario set {name}={value!r} holds")
            _expect(list(synth.columns) == list(self.train.columns), "a scenario keeps the columns")
        if numeric:
            name = numeric[0]
            spread = float(self.train[name].std())
            shift = {"shift": {name: spread / 2}}
            synth = self.model.sample(300, seed=19, scenario=shift)
            for column in self.train.columns:
                _expect(synth[column].dtype == self.train[column].dtype, f"scenario: {column} dtype")
            pd.testing.assert_frame_equal(self.model.sample(300, seed=19, scenario=shift), synth)
            base = self.model.sample(300, seed=19)
            _expect(bool(synth[name].mean() > base[name].mean()), f"scenario shift of {name} raises its mean")

    def check_log_prob(self) -> None:
        rows = self.train.head(100)
        if not self.tags.log_prob:
            _raises(
                OptionError,
                lambda: self.model.log_prob(rows),
                "log_prob without the log_prob tag",
                "log_prob",
            )
            return
        values = np.asarray(self.model.log_prob(rows))
        _expect(values.shape == (len(rows),), f"log_prob gives one value a row, got shape {values.shape}")
        _expect(
            bool(np.isfinite(values).all()) and bool((values <= 1e-9).all()), "log_prob is finite and <= 0"
        )
        np.testing.assert_array_equal(np.asarray(self.model.log_prob(rows)), values)

    # --- context ------------------------------------------------------------------------------------
    def _context_source(self) -> str | None:
        """The column the context check copies into the context: a category with two or more kept values,
        else a numeric column, else none."""
        columns = self._condition_columns() or [
            name for name in self.learned(Kind.NUMERIC) if self.train[name].nunique() > 1
        ]
        return columns[0] if columns else None

    def check_context(self) -> None:
        """Rows drawn given a context holding a copy of one of their columns follow that copy."""
        source = self._context_source() or self.train.columns[0]
        name = "context: " + source
        while name in self.train.columns:
            name += "'"
        context = self.train[[source]].rename(columns={source: name})
        if not self.tags.context:
            _raises(
                OptionError,
                lambda: self.new().fit(self.train, self.schema, context=context),
                "fit(context=...) without the context tag",
                "context",
            )
            return
        if self._context_source() is None:
            return  # nothing learned to condition on
        model = self.new().fit(self.train, self.schema, context=context)
        synth = model.sample(context=context, seed=17)
        _expect(
            len(synth) == len(context), f"sample(context=...) gives one row per context row, got {len(synth)}"
        )
        _expect(list(synth.columns) == list(self.train.columns), "sample(context=...) gives the own columns")
        for column in self.train.columns:
            _expect(synth[column].dtype == self.train[column].dtype, f"{column}: dtype {synth[column].dtype}")
        given, drawn = context[name], synth[source]
        known = given.notna() & drawn.notna()
        if self.schema[source].kind is Kind.NUMERIC:
            r = float(np.corrcoef(given[known].astype(float), drawn[known].astype(float))[0, 1])
            _expect(r >= CONTEXT_CORRELATION, f"{source} drawn given a copy of itself: correlation {r:.2f}")
        else:
            a, b = given[known].astype(str), drawn[known].astype(str)
            agree = float((a.to_numpy() == b.to_numpy()).mean())
            shares = a.value_counts(normalize=True).mul(b.value_counts(normalize=True), fill_value=0.0)
            chance = float(shares.sum())
            _expect(
                agree >= chance + CONTEXT_AGREEMENT * (1.0 - chance),
                f"{source} drawn given a copy of itself agrees with it in {agree:.2f} of the rows "
                f"(by chance: {chance:.2f})",
            )
        pd.testing.assert_frame_equal(model.sample(context=context, seed=17), synth)
        _expect(
            not synth.equals(model.sample(context=context, seed=18)) or len(synth.drop_duplicates()) < 2,
            "another seed gives other rows",
        )
        empty = model.sample(context=context.head(0), seed=1)
        _expect(list(empty.columns) == list(self.train.columns) and len(empty) == 0, "an empty context")
        _raises(OptionError, lambda: model.sample(10, seed=1), "sample without the context", "context=")
        _raises(
            OptionError,
            lambda: model.sample(3, context=context, seed=1),
            "n other than the context's rows",
            "n",
        )
        _raises(
            OptionError,
            lambda: self.model.sample(context=context, seed=1),
            "sample(context=...) of a model fitted without one",
            "without a context",
        )
        import io

        from mirage.model_file import load_model

        buffer = io.BytesIO()
        model.save(buffer)
        loaded = load_model(buffer.getvalue())
        pd.testing.assert_frame_equal(loaded.sample(context=context, seed=17), synth)


ENGINE_CHECKS: tuple[str, ...] = tuple(name for name in vars(_EngineChecks) if name.startswith("check_"))


def engine_checks(
    engine_class: type[Synthesizer],
    data: pd.DataFrame,
    *,
    params: Mapping[str, Any] | None = None,
    schema: Schema | None = None,
    seed: int = 0,
) -> dict[str, Callable[[], None]]:
    """Each conformance check of ``engine_class`` on ``data`` by name (see ``ENGINE_CHECKS``).

    The checks share one fit (made by the first check that needs it) of ``engine_class(**params)``.
    """
    checks = _EngineChecks(engine_class, data, params, schema, seed)
    return {name: getattr(checks, name) for name in ENGINE_CHECKS}


def check_engine(
    engine_class: type[Synthesizer],
    data: pd.DataFrame,
    *,
    params: Mapping[str, Any] | None = None,
    schema: Schema | None = None,
    seed: int = 0,
) -> None:
    """Run every conformance check of ``engine_class`` on ``data``; ``AssertionError`` names the first
    that fails.  ``params`` are the hyperparameters to fit with (such as fewer epochs, for speed)."""
    for name, check in engine_checks(engine_class, data, params=params, schema=schema, seed=seed).items():
        try:
            check()
        except AssertionError as exc:
            raise AssertionError(f"{engine_class.__name__}: {name[len('check_') :]}: {exc}") from exc
