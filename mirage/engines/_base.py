"""The synthesizer contract shared by every engine, in the scikit-learn style.

``__init__`` takes keyword-only hyperparameters and only stores them; ``fit`` learns state into
attributes ending in ``_``; ``sample`` draws rows.  Randomness is organised in fixed blocks of
``BLOCK_ROWS`` rows: block ``i`` draws from ``SeedSequence([seed, i])``, so the same seed gives the
same rows however the blocks are spread over chunks, processes or workers.  With a context
(:mod:`mirage.engines._context`) the blocks are blocks of context rows, seeded alike.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, TypeVar, overload

import numpy as np
import pandas as pd

from mirage._validate import StateError, require, require_int, require_mapping, require_subcolumns, within
from mirage.encoding import EncodingOptions, SubColumn, TableEncoder
from mirage.encoding._base import MISSING_PART
from mirage.encoding.categorical import number_categories_as_numbers
from mirage.engines._conditions import ConditionFilter, condition_box, resolve_conditions
from mirage.engines._context import ContextParts, prepare_fit_context, prepare_sample_context
from mirage.engines._guard import PrivacyKnob, guard
from mirage.engines._params import FIT, RARE_MIN_COUNT, Param, check_params, param_problem
from mirage.engines._registry import ENGINES
from mirage.engines._scenario import Scenario, intervene, resolve_scenario
from mirage.engines._tags import EngineTags
from mirage.errors import DataError, MirageError, ModelFileError, NotFittedError, OptionError, SchemaError
from mirage.schema import Schema, infer_schema

if TYPE_CHECKING:
    from mirage.scale import SampledFolder

__all__ = [
    "BLOCK_ROWS",
    "ContextParts",
    "EngineTags",
    "MIN_TRAINING_ROWS",
    "NotFittedError",
    "Synthesizer",
    "clone",
    "engines_with",
    "fill_holes",
    "missing_flags",
    "require_training_rows",
    "resolve_encoding_options",
]

BLOCK_ROWS = 50_000
# Below this, a learned distribution is little more than the rows themselves (one row: every engine
# gives its numbers back exactly); it is also the fewest rows a category needs to be emitted.
MIN_TRAINING_ROWS = 10
MAX_REJECTION_ROUNDS = 200
HOPELESS_ROUNDS = 20  # stop early when this many rounds matched nothing
CONTEXT_PREFIX = "context."  # the context encoder's arrays in the model file
# fields of EncodingOptions a user sets (the locale is the schema's); once engine hyperparameters
ENCODING_OPTIONS = ("rare_min_count",)


S = TypeVar("S", bound="Synthesizer")


def require_training_rows(rows: int, *, holdout: float | None = None, kept: int = 0) -> None:
    """Refuse to learn from fewer than ``MIN_TRAINING_ROWS`` rows (``kept``: rows a holdout set aside)."""
    if rows >= MIN_TRAINING_ROWS:
        return
    need = f"learning needs at least {MIN_TRAINING_ROWS} rows, or the synthetic rows would copy the real ones"
    if holdout is not None:
        raise DataError(
            f"holdout {holdout} keeps {kept:,} of {rows + kept:,} rows aside and leaves {rows} to learn "
            f"from; {need}"
        )
    raise DataError(f"the data has {rows} row{'' if rows == 1 else 's'}; {need}")


def missing_flags(subcolumns: list[SubColumn]) -> dict[int, int]:
    """Sub-column index -> index of its column's missing flag, for each sub-column that has one.

    Where the flag says missing, the column's other sub-columns hold a placeholder (a median, the most
    frequent category), not a value: engines must not learn it as one, or it reappears in rows that
    are not missing.
    """
    flags = {s.column: i for i, s in enumerate(subcolumns) if s.part == MISSING_PART}
    return {
        i: flags[s.column] for i, s in enumerate(subcolumns) if s.part != MISSING_PART and s.column in flags
    }


class Synthesizer:
    """Base class of every engine.  Subclasses implement the four ``_`` hooks (``_fit``, ``_sample``,
    ``_get_state``, ``_set_state``), and ``_fit_given`` and ``_sample_given`` when tagged ``context``."""

    name: ClassVar[str] = ""
    # every keyword-only __init__ argument with its type and range (checked by fit and on load)
    params: ClassVar[Mapping[str, Param]] = {}
    # the hyperparameters the memorisation guard (:mod:`mirage.engines._guard`) may strengthen before
    # the fit, up to the engine's ``max_dcr_share`` hyperparameter; None: the engine has no such knob
    privacy_knob: ClassVar[PrivacyKnob | None] = None
    # what the engine can do beyond fit and sample; read through get_tags()
    tags: ClassVar[EngineTags] = EngineTags()
    # hyperparameters added after model files were written: the value a file without one behaved as
    # (on load it gets that, not the new default, so an older model samples as it did)
    defaults_before: ClassVar[Mapping[str, Any]] = {}

    # --- hooks for engines --------------------------------------------------------------------
    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        raise NotImplementedError

    # engines tagged ``context`` implement these two instead of ``_fit`` and ``_sample`` when a context
    # is given: the engine's own sub-columns learned and drawn given the encoded context rows
    def _fit_given(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: ContextParts,
        rng: np.random.Generator,
    ) -> None:
        raise NotImplementedError

    def _sample_given(self, context: ContextParts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """One row of the engine's own sub-columns per context row (``context.n`` rows)."""
        raise NotImplementedError

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        raise NotImplementedError

    @classmethod
    def get_tags(cls) -> EngineTags:
        """The engine's capabilities (``privacy_guard`` follows ``privacy_knob``)."""
        return dataclasses.replace(cls.tags, privacy_guard=cls.privacy_knob is not None)

    def _unsupported(self, capability: str, what: str) -> OptionError:
        return OptionError(
            f"the {self.name or type(self).__name__} engine cannot {what} (its tags say {capability}=False; "
            f"engines that can: {', '.join(engines_with(capability)) or 'none'})"
        )

    # --- hyperparameters ----------------------------------------------------------------------
    def __new__(cls: type[S], *args: Any, **params: Any) -> S:
        # Runs before __init__ with the same arguments: an unknown keyword is an OptionError naming it
        # (Python's own TypeError would not list the valid names).  Positional arguments are left to
        # __init__, which refuses them.
        cls._check_names(params)
        return super().__new__(cls)

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY]

    @classmethod
    def _check_names(cls, params: Mapping[str, Any]) -> None:
        valid = cls._param_names()
        unknown = [name for name in params if name not in valid]
        moved = [name for name in unknown if name in ENCODING_OPTIONS]
        if moved:
            raise OptionError(
                f"{moved[0]} is an encoding option, not a hyperparameter of the {cls.name or cls.__name__} "
                f"engine: pass fit(..., encoding_options=EncodingOptions({moved[0]}=...))"
            )
        if unknown:
            raise OptionError(
                f"unknown hyperparameter {unknown[0]!r} for the {cls.name or cls.__name__} engine "
                f"(valid: {', '.join(valid)})"
            )

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self: S, **params: Any) -> S:
        """Set hyperparameters by name; an unknown name or a value out of range is an ``OptionError``.

        Changing a fit-time hyperparameter (one that shaped the learned state) of a fitted model
        discards that state: the model is unfitted until the next ``fit``.  Sample-time ones (such as
        ``temperature``) act on the next draw and keep the fit.
        """
        self._check_names(params)
        for name, value in params.items():
            problem = param_problem(self.params, name, value)
            if problem is not None:
                raise OptionError(f"{name} {problem}")
        changed = [name for name, value in params.items() if getattr(self, name) != value]
        for name, value in params.items():
            setattr(self, name, value)
        spec = self.params
        if any(name not in spec or spec[name].stage == FIT for name in changed):
            self._forget()
        return self

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    # --- learning -----------------------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame,
        schema: Schema | None = None,
        *,
        context: pd.DataFrame | None = None,
        context_schema: Schema | None = None,
        encoding_options: EncodingOptions | None = None,
    ) -> Synthesizer:
        """Learn ``data`` (a DataFrame) under ``schema`` (inferred when not given).

        ``encoding_options``: how columns are encoded for every engine alike (an ``EncodingOptions``:
        ``rare_min_count``, the fewest rows a category or an extreme value needs to be emitted,
        default 10); its Faker locale is the schema's (``schema.locale``).  The fit's options are
        ``model.encoding_``.

        ``context`` (engines tagged ``context``): a DataFrame with one row per data row, row ``i`` being
        what data row ``i`` is conditioned on (say its parent row's columns); its columns must not share
        a name with the data's and must be learned kinds (numeric, categorical, boolean, datetime).
        It is encoded with its own encoder under ``context_schema`` (inferred when not given); its
        values are never generated: ``sample(context=...)`` then draws rows given context rows.
        """
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"fit expects a pandas DataFrame, got {type(data).__name__}")
        if data.shape[1] == 0:
            raise DataError("the data has no columns")
        if len(data) == 0:
            raise DataError("the data has no rows")
        data = data.reset_index(drop=True)
        data.columns = [str(c) for c in data.columns]
        # the model keeps its own copy: editing the caller's schema afterwards must not change it
        schema = infer_schema(data) if schema is None else copy.deepcopy(schema)
        schema.validate(data)
        if context is None and context_schema is not None:
            raise OptionError("context_schema is given without a context")
        if context is not None:
            if not self.get_tags().context:
                raise self._unsupported("context", "condition on a context (fit(data, context=...))")
            context, context_schema = prepare_fit_context(context, copy.deepcopy(context_schema), data)
        options = resolve_encoding_options(encoding_options, schema)
        self._check_params()
        require_training_rows(len(data))
        previous = self._learned()
        try:
            self._learn(data, schema, context, context_schema, options)
        except BaseException:
            self._restore(previous)  # a failed fit leaves the model as it was, never half-fitted
            raise
        return self

    def _learn(
        self,
        data: pd.DataFrame,
        schema: Schema,
        context: pd.DataFrame | None = None,
        context_schema: Schema | None = None,
        options: EncodingOptions | None = None,
    ) -> None:
        from mirage.control._plan import learn_rules

        self._forget()
        options = options or EncodingOptions(locale=schema.locale)
        # the schema's rules: training rows that break one reported, the frame rewritten so that most hold
        # by construction (mirage.control); the engine learns ``learned`` under ``learned_schema``
        rules, learned, learned_schema = learn_rules(data, schema)
        learned_schema = number_categories_as_numbers(learned_schema, learned, options.rare_min_count)
        knob, limit = type(self).privacy_knob, getattr(self, "max_dcr_share", None)
        checked = None
        if knob is not None and limit is not None:
            checked = guard(
                self,
                learned,
                learned_schema,
                knob,
                limit,
                context=context,
                context_schema=context_schema,
                options=options,
            )
        if context is not None and len(learned) != len(data):
            context = context.iloc[np.flatnonzero(data.index.isin(learned.index))]  # rows that broke a rule
        learned = learned.reset_index(drop=True)
        encoder = TableEncoder(learned_schema, options).fit(learned)
        parts = encoder.encode(learned)
        self.schema_ = learned_schema  # what the engine sees while it learns; the user's schema after
        self.rules_ = rules
        self.encoder_ = encoder
        self.context_schema_: Schema | None = None
        self.context_encoder_: TableEncoder | None = None
        self.n_training_rows_ = len(learned)
        self.training_: dict[str, Any] = {} if checked is None else {"guard": checked}
        rng = np.random.default_rng(getattr(self, "seed", 0))
        if context is None or context_schema is None:
            self._fit(parts, encoder.subcolumns, rng)
        else:
            self.context_schema_ = context_schema
            self.context_encoder_ = TableEncoder(context_schema, options).fit(context)
            self._fit_given(
                parts, encoder.subcolumns, self._encode_context(context.reset_index(drop=True)), rng
            )
        self.schema_ = schema

    def _encode_context(self, context: pd.DataFrame) -> ContextParts:
        encoder = self.context_encoder_
        if encoder is None:
            raise OptionError("this model was fitted without a context; it cannot sample given one")
        return ContextParts(encoder.encode(context), tuple(encoder.subcolumns), len(context))

    def _learned(self) -> dict[str, Any]:
        """The learned state: every attribute whose name ends in ``_``."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("__")}

    def _forget(self) -> None:
        for name in self._learned():
            delattr(self, name)

    def _restore(self, learned: Mapping[str, Any]) -> None:
        self._forget()
        for name, value in learned.items():
            setattr(self, name, value)

    def _guard_choice(self) -> Mapping[str, Any]:
        """The settings the memorisation guard chose for this fit (empty when it did not run)."""
        return self.training_.get("guard", {}).get("chosen") or {}

    def _knob_setting(self, name: str) -> Any:
        """Hyperparameter ``name`` of the privacy knob for this fit: as the guard chose it, else the
        knob's first setting (the engine's own)."""
        knob = type(self).privacy_knob
        assert knob is not None, f"{type(self).__name__} has no privacy knob"
        chosen = self._guard_choice() or knob.settings(self, self.n_training_rows_)[0]
        return chosen[name]

    def _check_params(self) -> None:
        check_params(self.params, self.get_params())

    @property
    def encoding_(self) -> EncodingOptions:
        """The encoding options the model was fitted with (``rare_min_count``, locale)."""
        self._require_fitted()
        options: EncodingOptions = self.encoder_.options
        return options

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "encoder_")

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(data) first")

    # --- sampling -----------------------------------------------------------------------------
    def sample(
        self,
        n: int | None = None,
        *,
        seed: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        context: pd.DataFrame | None = None,
        rebalance: Mapping[str, Mapping[Any, float]] | None = None,
        fair: Mapping[str, Any] | None = None,
        scenario: Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Draw ``n`` rows.  ``conditions`` maps learned columns to a value, a list of allowed values, or
        a condition object (``OneOf``, ``Between``, ``IsNull``, ``NotNull``).

        ``rebalance`` ({column: {value: share}}) gives values exact shares of the rows; ``fair``
        ({"outcome": column, "protected": column}) draws the outcome independent of the protected
        column (see :mod:`mirage.control`).

        ``scenario`` draws the rows under an intervention and redraws what depends on it through the
        model's learned dependencies (see :mod:`mirage.engines._scenario`): ``{"shift": {column:
        delta}}``, ``{"set": {column: value}}``, ``{"share": {column: {value: share}}}``.  With
        ``conditions`` (or ``rebalance``/``fair``) the rows are the scenario's population meeting them
        (drawn under the scenario, then filtered: bounded rejection).

        A model fitted with a context samples given one: ``context`` is a DataFrame holding the
        context columns it was fitted with (others are ignored), and the result has one row per
        context row, in its order, row ``i`` drawn given context row ``i``; ``n`` is then left out (or
        equals the number of context rows).  The output holds the model's own columns only.  Context
        and ``conditions`` cannot be combined yet (``OptionError``).
        """
        if rebalance is not None or fair is not None:
            from mirage.control._rebalance import sample_controlled

            return sample_controlled(
                self,
                n,
                seed=seed,
                conditions=conditions,
                context=context,
                rebalance=rebalance,
                fair=fair,
                scenario=scenario,
                block=BLOCK_ROWS,
            )
        chunks = list(
            self.sample_chunks(n, seed=seed, conditions=conditions, context=context, scenario=scenario)
        )
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]

    def sample_chunks(
        self,
        n: int | None = None,
        *,
        seed: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        context: pd.DataFrame | None = None,
        scenario: Mapping[str, Any] | None = None,
        rebalance: Mapping[str, Mapping[Any, float]] | None = None,
        fair: Mapping[str, Any] | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Yield the rows of ``sample(n, seed=seed, ...)`` in blocks of at most ``BLOCK_ROWS`` rows.

        ``n == 0`` (or an empty context) yields one empty frame with the right columns and dtypes.
        With ``context``, block ``i`` holds the rows of context rows ``i * BLOCK_ROWS`` onwards.  With
        ``rebalance`` or ``fair``, each block holds its share of every cell (the counts stay exact
        over the whole sample; one block is exactly ``sample``'s rows).
        """
        if rebalance is not None or fair is not None:
            from mirage.control._rebalance import controlled_chunks

            yield from controlled_chunks(
                self, n, seed=seed, conditions=conditions, context=context, rebalance=rebalance, fair=fair,
                scenario=scenario, block=BLOCK_ROWS,
            )  # fmt: skip
            return
        self._require_fitted()
        if scenario is not None and not self.get_tags().scenario:
            raise self._unsupported("scenario", "sample a scenario")
        if scenario is not None and context is not None:
            raise OptionError("a scenario cannot be combined with a context yet; pass one of them")
        if context is not None:
            yield from self._sample_chunks_given(context, n, seed, conditions)
            return
        if self.context_schema_ is not None:
            raise OptionError(
                f"this model was fitted with a context (columns {', '.join(self.context_schema_.names)}): "
                "pass context=<a DataFrame of context rows> to sample, one row is drawn per context row"
            )
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise OptionError(f"n must be a non-negative integer, got {n!r}")
        seed = _resolve_seed(seed)
        if conditions and self.rules_ is not None:  # conditions on columns a rule derives: by rejection
            accept = self.rules_.condition_filter(conditions, self._condition_filter)
        else:
            accept = self._condition_filter(conditions) if conditions else None
        plan = None if scenario is None else resolve_scenario(scenario, self.schema_, self.encoder_)
        seen: dict[int, set[Any]] = {}  # values of unique columns in the blocks drawn so far
        for index, start in enumerate(range(0, max(int(n), 1), BLOCK_ROWS)):
            size = min(BLOCK_ROWS, int(n) - start)
            yield self.sample_block(index, size, seed=seed, accept=accept, scenario=plan, seen=seen)

    def sample_to(
        self,
        path: str | Path,
        n: int,
        *,
        format: str = "parquet",
        seed: int | None = None,
        block_rows: int | None = None,
        workers: int | None = None,
        cluster: str | None = None,
        client: Any = None,
        force: bool = False,
        conditions: Mapping[str, Any] | None = None,
        scenario: Mapping[str, Any] | None = None,
        draw_ahead: bool | None = None,
        **refused: Any,
    ) -> SampledFolder:
        """Draw ``n`` rows into the folder ``path`` as partitioned Parquet or CSV, in parallel on Dask
        (``workers``, ``cluster`` or ``client``) or here; see :func:`mirage.scale.sample_to`.
        ``conditions`` and ``scenario`` as in :meth:`sample`; ``draw_ahead`` as there."""
        from mirage.scale._sample import FILE_ROWS, sample_to

        return sample_to(
            self,
            path,
            n,
            seed=_resolve_seed(seed),
            block=BLOCK_ROWS,
            format=format,
            block_rows=FILE_ROWS if block_rows is None else block_rows,
            workers=workers,
            cluster=cluster,
            client=client,
            force=force,
            conditions=conditions,
            scenario=scenario,
            draw_ahead=draw_ahead,
            **refused,
        )

    def _sample_chunks_given(
        self, context: pd.DataFrame, n: int | None, seed: int | None, conditions: Mapping[str, Any] | None
    ) -> Iterator[pd.DataFrame]:
        if self.context_schema_ is None:
            raise OptionError(
                "this model was fitted without a context: sample without context=..., or fit with "
                "fit(data, context=...) to draw rows given context rows"
            )
        if conditions:
            raise OptionError("conditions cannot be combined with a context yet; sample with one of them")
        frame = prepare_sample_context(context, n, self.context_schema_)
        seed = _resolve_seed(seed)
        seen: dict[int, set[Any]] = {}
        for index, start in enumerate(range(0, max(len(frame), 1), BLOCK_ROWS)):
            rows = frame.iloc[start : start + BLOCK_ROWS]
            yield self.sample_block(index, len(rows), seed=seed, context=rows, seen=seen)

    def sample_block(
        self,
        index: int,
        size: int,
        *,
        seed: int,
        accept: Any = None,
        context: pd.DataFrame | None = None,
        scenario: Scenario | None = None,
        seen: dict[int, set[Any]] | None = None,
    ) -> pd.DataFrame:
        """Block ``index`` of a seeded sample: the unit executors distribute.

        ``context``: the block's context rows (``size`` of them), for a model fitted with a context.
        ``scenario``: a resolved scenario (``resolve_scenario``) applied to the block's rows.
        ``seen``: values of the schema's unique columns in earlier blocks (updated with this block's).
        """
        rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
        start = index * BLOCK_ROWS
        if self.rules_ is not None and scenario is not None:
            raise OptionError("a scenario cannot be sampled from a model with business rules yet")
        if self.rules_ is not None:  # drawn as the engine learned them, then made to obey the rules
            frame = self._draw_block(size, rng, start, accept, context)
            return self.rules_.apply(
                frame, lambda rows: self._draw_block(len(rows), rng, start, accept, context, rows), seen
            )
        return self._draw_block(size, rng, start, accept, context, scenario=scenario)

    def _draw_block(
        self,
        size: int,
        rng: np.random.Generator,
        start: int,
        accept: Any,
        context: pd.DataFrame | None,
        subset: np.ndarray | None = None,
        scenario: Scenario | None = None,
    ) -> pd.DataFrame:
        """``size`` rows of the engine's own columns (``subset``: given only these rows of the context)."""
        if context is not None and subset is not None:
            context = context.iloc[subset]
        if context is not None:
            if self.context_schema_ is None:
                raise OptionError("this model was fitted without a context; it cannot sample given one")
            rows = prepare_sample_context(context, None, self.context_schema_)
            if len(rows) != size:
                raise OptionError(f"sample_block: size is {size} but the context has {len(rows)} rows")
            given = self._encode_context(rows)
            return self.encoder_.decode(self._sample_given(given, rng), size, rng, start)
        if scenario is not None:

            def under_scenario(rows: int) -> dict[str, np.ndarray]:
                parts, fixed = intervene(scenario, self._sample(rows, rng), self.encoder_, rng)
                return self._propagate(parts, fixed, rng)

            if accept is None:
                frame = self.encoder_.decode(under_scenario(size), size, rng, start)
            else:  # the scenario's population, filtered on the conditions (bounded rejection)
                frame = self._sample_rejecting(size, rng, start, accept, under_scenario)
            for column, value in scenario.set.items():  # exactly the value set, not a rounding of it
                frame[column] = pd.Series([value] * size, dtype=object).astype(frame[column].dtype)
            return frame
        if accept is None:
            return self.encoder_.decode(self._sample(size, rng), size, rng, start)
        return self._sample_rejecting(size, rng, start, accept)

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Drawn rows whose ``fixed`` sub-columns a scenario set: the sub-columns that depend on them in
        the engine's learned dependencies redrawn given them (see :mod:`mirage.engines._scenario`)."""
        raise OptionError(f"the {self.name or type(self).__name__} engine cannot sample a scenario")

    def _sample_matching(self, n: int, rng: np.random.Generator, accept: Any) -> dict[str, np.ndarray]:
        """Candidate rows for conditions; engines that can condition natively draw them here."""
        return self._sample(n, rng)

    def _sample_rejecting(
        self,
        size: int,
        rng: np.random.Generator,
        start: int,
        accept: Any,
        draw: Callable[[int], dict[str, np.ndarray]] | None = None,
    ) -> pd.DataFrame:
        """Bounded rejection sampling: drawn rows are tested on their learned columns, and only the kept
        rows are decoded whole (so keys stay in the block and generated values are made once).
        ``draw(k)``: k candidate rows (default: the engine's, natively inside the conditions where it can)."""
        kept: list[dict[str, np.ndarray]] = []
        tested: list[pd.DataFrame] = []  # the kept rows' learned columns, as the conditions saw them
        have, drawn = 0, 0
        batch = max(size, 1_000)
        for attempt in range(MAX_REJECTION_ROUNDS):
            if have >= size or (attempt >= HOPELESS_ROUNDS and have == 0):
                break
            parts = self._sample_matching(batch, rng, accept) if draw is None else draw(batch)
            rows = _rows(parts, batch)  # a native engine may return fewer rows than asked, all in the box
            learned = self._decode_learned(parts, rows, rng)
            mask = np.asarray(accept(learned), dtype=bool)
            kept.append({name: values[mask] for name, values in parts.items()})
            tested.append(learned[mask])
            have += int(mask.sum())
            drawn += batch
        if have < size:
            rate = have / max(drawn, 1)
            raise MirageError(
                f"conditions are too rare to sample by rejection: {have} of {drawn} drawn rows "
                f"matched (acceptance rate {rate:.2e}); relax the conditions"
            )
        names = kept[0].keys() if kept else []
        parts = {name: np.concatenate([k[name] for k in kept])[:size] for name in names}
        known = pd.concat(tested, ignore_index=True).iloc[:size] if tested else None
        return self.encoder_.decode(parts, size, rng, start, known=known)

    def _condition_filter(self, conditions: Mapping[str, Any]) -> Any:
        """The row filter of ``conditions`` (a :class:`ConditionFilter`, see
        :mod:`mirage.engines._conditions`), each condition checked against its column and an impossible
        one refused; its ``box`` is what engines tagged ``native_conditions`` draw inside."""
        resolved = resolve_conditions(conditions, self.schema_)
        return ConditionFilter(resolved, condition_box(resolved, self.encoder_))

    def _decode_learned(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> pd.DataFrame:
        """The learned columns of drawn rows, enough to test conditions (which only name learned columns):
        keys, Faker values and text are generated for kept rows only."""
        learned = [c.name for c in self.encoder_.schema if c.kind.learned]
        return self.encoder_.decode(parts, n, rng, 0, only=learned)

    # --- capabilities an engine may declare in its tags ---------------------------------------
    def impute(self, data: pd.DataFrame, *, seed: int | None = None) -> pd.DataFrame:
        """``data`` with its missing cells in learned columns drawn given the rest of each row.

        Every row keeps its observed cells exactly; a missing cell gets a value (never a null) drawn
        from the model given the row's observed cells.  Generated columns (keys, PII, free text) are
        left as they are.  The same seed gives the same imputations.  Engines tagged ``impute``
        implement it (through ``_impute_parts``); the others raise ``OptionError``.
        """
        if not self.get_tags().impute:
            raise self._unsupported("impute", "impute missing cells")
        self._require_fitted()
        if self.context_schema_ is not None:
            raise OptionError("impute of a model fitted with a context is not supported yet")
        if not isinstance(data, pd.DataFrame):
            raise OptionError(f"impute takes a DataFrame, got {type(data).__name__}")
        absent = [name for name in self.schema_.names if name not in data.columns]
        if absent:
            raise DataError(f"impute: the data lacks the model's column(s) {absent}")
        if self.rules_ is not None:  # imputed in the columns the engine learned, then rebuilt
            base = _resolve_seed(seed)

            def fill(frame: pd.DataFrame, attempt: int) -> pd.DataFrame:
                again = int(np.random.SeedSequence([base, attempt]).generate_state(1)[0])
                return self._impute_frame(frame, base if attempt == 0 else again)

            restored, gaps = self.rules_.impute(data, fill)
            if not gaps:
                return data.copy()
            rows = data.reset_index(drop=True)
            out = fill_holes(rows, restored, np.arange(len(rows)), gaps, self.rules_.schema)
            out.index = data.index
            return out
        return self._impute_frame(data, seed)

    def _impute_frame(self, data: pd.DataFrame, seed: int | None) -> pd.DataFrame:
        """``impute`` on rows in the engine's own columns (``encoder_.schema``: the user's unless rules
        rewrite them)."""
        schema = self.encoder_.schema
        rng = np.random.default_rng(_resolve_seed(seed))
        learned = [c.name for c in schema if c.kind.learned]
        nulls = {name: data[name].isna().to_numpy() for name in learned}
        holes = [name for name, mask in nulls.items() if mask.any()]
        if not holes:
            return data.copy()
        rows = np.flatnonzero(np.any([nulls[name] for name in holes], axis=0))
        frame = data[schema.names].iloc[rows].reset_index(drop=True)
        parts = self.encoder_.encode(frame)
        known: dict[str, np.ndarray] = {}
        for sub in self.encoder_.subcolumns:
            if sub.part == MISSING_PART:  # an imputed cell is present: every flag is known, and 0
                parts[sub.name] = np.zeros(rows.size, dtype="int64")
                known[sub.name] = np.ones(rows.size, dtype=bool)
            else:
                known[sub.name] = (
                    ~nulls[sub.column][rows] if sub.column in nulls else np.ones(rows.size, bool)
                )
        drawn_parts = self._impute_parts(parts, known, rng)
        for name, mask in known.items():
            drawn_parts[name] = np.where(mask, parts[name], drawn_parts[name])
        drawn = self.encoder_.decode(drawn_parts, rows.size, rng)
        return fill_holes(data, drawn, rows, {name: nulls[name] for name in holes}, schema)

    def _impute_parts(
        self, parts: dict[str, np.ndarray], known: Mapping[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Encoded rows with every sub-column whose ``known`` mask is False drawn given the known ones
        (engines tagged ``impute`` that use the base class's ``impute``)."""
        raise self._unsupported("impute", "impute missing cells")

    def log_prob(self, data: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
        """Per-row log-probability of ``data`` under the model (nats).

        Engines tagged ``log_prob`` implement it; the others raise ``OptionError``.
        """
        raise self._unsupported("log_prob", "give log-probabilities")

    # --- persistence --------------------------------------------------------------------------
    @overload
    def save(self, target: str | Path, *, force: bool = False) -> Path: ...
    @overload
    def save(self, target: IO[bytes], *, force: bool = False) -> IO[bytes]: ...
    def save(self, target: str | Path | IO[bytes], *, force: bool = False) -> Path | IO[bytes]:
        """Write the model file (manifest plus arrays, no pickle) to a path or a binary stream.

        A path is written atomically and an existing file is kept unless ``force``; read the file
        back with ``mirage.load``.
        """
        from mirage._model_archive import write_archive

        self._require_fitted()
        state, arrays = self.get_state()
        body = {
            "engine": self.name,
            "hyperparameters": self.get_params(),
            "schema": self.schema_.to_dict(),
            "state": state,
        }
        write_archive(body, arrays, target, force=force)
        return Path(target) if isinstance(target, str) else target

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self._require_fitted()
        encoder_state, encoder_arrays = self.encoder_.get_state()
        engine_state, engine_arrays = self._get_state()
        overlap = set(encoder_arrays) & {f"engine.{k}" for k in engine_arrays}
        assert not overlap
        state = {
            "encoder": encoder_state,
            "engine": engine_state,
            "n_training_rows": self.n_training_rows_,
            "training": self.training_,
        }
        if self.rules_ is not None:
            state["rules"] = self.rules_.get_state()
        taught = self.schema_ if self.rules_ is None else self.rules_.engine_schema
        if self.encoder_.schema.to_dict() != taught.to_dict():  # number categories learned as numbers
            state["encoder_schema"] = self.encoder_.schema.to_dict()
        arrays = dict(encoder_arrays)
        arrays.update({f"engine.{k}": v for k, v in engine_arrays.items()})
        if self.context_encoder_ is not None and self.context_schema_ is not None:
            context_state, context_arrays = self.context_encoder_.get_state()
            state["context"] = {"schema": self.context_schema_.to_dict(), "encoder": context_state}
            arrays.update({f"{CONTEXT_PREFIX}{k}": v for k, v in context_arrays.items()})
        return state, arrays

    def set_state(self, schema: Schema, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Restore ``get_state``'s output; a :class:`StateError` names any field that cannot be used."""
        state = require_mapping(state)
        encoder_state = require(state, "encoder")
        engine_state = require_mapping(require(state, "engine"), "engine")
        training = require_mapping(state.get("training", {}), "training")
        n_training_rows = require_int(state, "n_training_rows", low=1)
        rules = restore_rules(schema, state)
        taught = schema if rules is None else rules.engine_schema
        if "encoder_schema" in state:
            with within("encoder_schema"):
                taught = Schema.from_dict(dict(require_mapping(state["encoder_schema"], "encoder_schema")))
        with within("encoder"):
            encoder = TableEncoder.from_state(taught, encoder_state, arrays)
        context_schema, context_encoder = _restore_context(state, arrays)
        previous = self._learned()
        self._forget()
        self.schema_ = taught  # the user's once restored
        self.rules_ = rules
        self.encoder_ = encoder
        self.context_schema_ = context_schema
        self.context_encoder_ = context_encoder
        self.n_training_rows_ = n_training_rows
        self.training_ = dict(training)
        own = {k[len("engine.") :]: v for k, v in arrays.items() if k.startswith("engine.")}
        try:
            with within("engine", "engine."):
                self._set_state(dict(engine_state), own)
        except BaseException:
            self._restore(previous)  # a failed load leaves the model as it was, not half-loaded
            raise
        self.schema_ = schema

    def _restore_subcolumns(self, state: Mapping[str, Any]) -> list[SubColumn]:
        """The engine's saved ``subcolumns``, which must be the ones its encoder's codecs give."""
        saved = require_subcolumns(state, "subcolumns")
        expected = self.encoder_.subcolumns
        if saved == expected:
            return saved
        for column in dict.fromkeys([s.column for s in expected] + [s.column for s in saved]):
            learned = [s for s in saved if s.column == column]
            given = [s for s in expected if s.column == column]
            if learned == given:
                continue
            if [s.name for s in learned] == [s.name for s in given]:
                was, now = next((a, b) for a, b in zip(learned, given, strict=True) if a != b)
                reason = (
                    f"gives {now.cardinality} code(s) for {now.name!r} but the engine was fitted on "
                    f"{was.cardinality} (state.engine.subcolumns); a category list edited by hand must keep "
                    "its length (rename categories in place)"
                )
            else:
                reason = (
                    f"gives the sub-columns {[s.name for s in given]} but the engine was fitted on "
                    f"{[s.name for s in learned]} (state.engine.subcolumns)"
                )
            raise StateError(f"encoder.codecs.{column}", reason, rooted=True)
        raise StateError("subcolumns", "are not in the order the encoder gives them")

    def _require_recorded(self, name: str, learned: Any, where: str) -> None:
        """A fit-time hyperparameter (None: automatic) must be the value the learned state was fitted with."""
        value = getattr(self, name, None)
        if value is not None and value != learned:
            raise ModelFileError(
                f"hyperparameters.{name}: is {value!r} but the model was fitted with {learned!r} ({where}); "
                "a fit-time hyperparameter cannot be changed in a model file: refit the model"
            )


def resolve_encoding_options(given: EncodingOptions | None, schema: Schema) -> EncodingOptions:
    """The fit's encoding options: ``given`` checked, with the schema's locale."""
    if given is None:
        return EncodingOptions(locale=schema.locale)
    if not isinstance(given, EncodingOptions):
        raise OptionError(f"encoding_options must be an EncodingOptions, got {type(given).__name__}")
    problem = RARE_MIN_COUNT.problem(given.rare_min_count)
    if problem is not None:
        raise OptionError(f"rare_min_count {problem}")
    if given.locale not in (EncodingOptions.locale, schema.locale):
        raise OptionError(
            f"encoding_options.locale is {given.locale!r} but the schema's is {schema.locale!r}: the Faker "
            "locale is the schema's (set schema.locale)"
        )
    return dataclasses.replace(given, rare_min_count=int(given.rare_min_count), locale=schema.locale)


def restore_rules(schema: Schema, state: Mapping[str, Any]) -> Any:
    """The rules' plan saved in ``state.rules`` (None: fitted without rules)."""
    from mirage.control._plan import RulePlan

    if "rules" not in state and not schema.rules:
        return None
    with within("rules"):
        return RulePlan.from_state(schema, require_mapping(state.get("rules", {})))


def _restore_context(
    state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> tuple[Schema | None, TableEncoder | None]:
    """The context schema and encoder saved in ``state.context`` (None, None: fitted without one)."""
    if "context" not in state:
        return None, None
    with within("context"):
        saved = require_mapping(require(state, "context"))
        try:
            schema = Schema.from_dict(dict(require_mapping(require(saved, "schema"), "schema")))
        except SchemaError as exc:
            raise StateError("schema", str(exc)) from None
        for column in schema:
            if not column.kind.learned:
                raise StateError(f"schema.{column.name}", f"a context column cannot be {column.kind.value}")
        own = {k[len(CONTEXT_PREFIX) :]: v for k, v in arrays.items() if k.startswith(CONTEXT_PREFIX)}
        encoder_state = require(saved, "encoder")
        with within("encoder", CONTEXT_PREFIX):
            encoder = TableEncoder.from_state(schema, encoder_state, own)
    return schema, encoder


def engines_with(capability: str) -> list[str]:
    """The registered engines tagged with ``capability`` (without importing their dependencies)."""
    names = []
    for name in sorted(ENGINES):
        if getattr(ENGINES.unchecked(name).get_tags(), capability):
            names.append(name)
    return names


def clone(engine: S) -> S:
    """A new, unfitted engine of the same class with the same hyperparameters."""
    if not isinstance(engine, Synthesizer):
        raise OptionError(f"clone expects a Synthesizer, got {type(engine).__name__}")
    return type(engine)(**engine.get_params())


def fill_holes(
    data: pd.DataFrame, drawn: pd.DataFrame, rows: np.ndarray, nulls: Mapping[str, np.ndarray], schema: Schema
) -> pd.DataFrame:
    """``data`` with the cells ``nulls`` marks taken from ``drawn`` (row ``i`` of ``drawn`` is row
    ``rows[i]`` of ``data``); columns keep their dtype where the filled values allow it."""
    out = data.copy()
    for name, mask in nulls.items():
        hole = mask[rows]
        values = out[name].astype(object) if out[name].dtype != drawn[name].dtype else out[name]
        values.iloc[rows[hole]] = drawn[name].to_numpy()[hole]
        values = values.infer_objects() if values.dtype == object else values
        if schema[name].integer and pd.api.types.is_float_dtype(values.dtype):
            values = values.astype(drawn[name].dtype)  # float only because of the holes
        out[name] = values
    return out


def _rows(parts: Mapping[str, np.ndarray], default: int) -> int:
    """The number of rows of encoded ``parts`` (``default`` when there is no sub-column)."""
    return len(next(iter(parts.values()))) if parts else default


def _resolve_seed(seed: int | None) -> int:
    if seed is None:
        return int(np.random.SeedSequence().generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> 1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)
