"""The codec conformance checks, on any column.

Each check is a method ``check_<what>`` of :class:`_CodecChecks`; one instance fits a codec on the
values once (lazily, on the first check that needs it) and every check reads that fit.  A codec
comes from ``codec_factory()``, called once for every codec a check needs: it must give a new,
unfitted codec of the column each time (``lambda: codec_for(column, EncodingOptions())``).

What "decode inverts encode on the learned support" means depends on the kind of column; the
default comparison (``support=None``) reads ``codec.column.kind``:

* numeric and boolean: the same values;
* categorical: categories the codec learned come back as themselves, the others (rare ones) as the
  rare token or a learned category;
* datetime: the same instants (text with offsets may be written at another offset);
* identifier and PII: regenerated, never learned: only where values are missing comes back (and
  identifiers stay unique);
* free text: texts of the same lengths.

Every kind keeps where values are missing, and re-encoding the decoded values gives the same
sub-columns (the learned support, seen from the engines' side).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage._model_archive import _json_default
from mirage.encoding._base import Codec
from mirage.encoding.categorical import RARE_TOKEN
from mirage.errors import DataError, MirageError, OptionError
from mirage.schema import Kind

__all__ = ["CODEC_CHECKS", "Support", "check_codec", "codec_checks"]

PARTITIONS = 4
MIN_VALUES = 20
DECODE_SEED = 5

#: ``support(original, decoded, codec)`` raises ``AssertionError`` where ``decoded`` (a fitted codec's
#: ``decode(encode(original))``, index reset) does not reproduce ``original`` on what ``codec`` learned
Support = Callable[[pd.Series, pd.Series, Codec[Any]], None]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


# --- what "the learned support" means for each kind ---------------------------------------------------
def _same_nulls(x: pd.Series, y: pd.Series) -> None:
    where = np.flatnonzero(x.isna().to_numpy() != y.isna().to_numpy())
    _expect(where.size == 0, f"missing values moved (first at row {where[:1].tolist()})")


def _first_difference(a: list[Any], b: list[Any]) -> str:
    i = next(i for i, (p, q) in enumerate(zip(a, b, strict=True)) if p != q)
    return f"the {i}-th present value {a[i]!r} comes back as {b[i]!r}"


def same_values(x: pd.Series, y: pd.Series, codec: Codec[Any]) -> None:
    _same_nulls(x, y)
    a, b = x.dropna().tolist(), y.dropna().tolist()
    if a != b:
        raise AssertionError(_first_difference(a, b) if len(a) == len(b) else "other values come back")


def learned_categories(x: pd.Series, y: pd.Series, codec: Codec[Any]) -> None:
    """Learned categories come back as themselves, rare ones as the rare token or a learned category."""
    _same_nulls(x, y)
    learned = getattr(codec, "categories", None)
    if learned is None:  # a codec that does not say: those seen in at least rare_min_count rows
        counts = x.value_counts()
        learned = counts[counts >= codec.options.rare_min_count].index
    known = set(learned)
    for a, b in zip(x.dropna().tolist(), y.dropna().tolist(), strict=True):
        if a in known:
            _expect(b == a, f"the learned category {a!r} comes back as {b!r}")
        else:
            _expect(b == RARE_TOKEN or b in known, f"the rare category {a!r} comes back as {b!r}")


def same_instants(x: pd.Series, y: pd.Series, codec: Codec[Any]) -> None:
    """The same instants (text with offsets is written at the column's most common offset)."""
    _same_nulls(x, y)
    if pd.api.types.is_datetime64_any_dtype(x.dtype):
        a, b = x, y
    else:
        a, b = pd.to_datetime(x, utc=True, format="mixed"), pd.to_datetime(y, utc=True, format="mixed")
    same = np.array_equal(a.dropna().to_numpy(), b.dropna().to_numpy())
    _expect(same, "other instants come back")


def regenerated(x: pd.Series, y: pd.Series, codec: Codec[Any]) -> None:
    """Never learned: only where values are missing comes back, and keys stay unique."""
    _same_nulls(x, y)
    if codec.column.kind is Kind.IDENTIFIER:
        _expect(y.dropna().is_unique, "regenerated keys repeat")


def same_lengths(x: pd.Series, y: pd.Series, codec: Codec[Any]) -> None:
    _same_nulls(x, y)
    a, b = x.dropna().str.len().tolist(), y.dropna().str.len().tolist()
    _expect(a == b, "texts of other lengths come back")


SUPPORT: dict[Kind, Support] = {
    Kind.NUMERIC: same_values,
    Kind.BOOLEAN: same_values,
    Kind.CATEGORICAL: learned_categories,
    Kind.DATETIME: same_instants,
    Kind.IDENTIFIER: regenerated,
    Kind.PII: regenerated,
    Kind.TEXT: same_lengths,
}


# --- state ----------------------------------------------------------------------------------------
def _through_model_file(
    state: dict[str, Any], arrays: Mapping[str, np.ndarray]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``state`` and ``arrays`` as a model file gives them back (JSON, safetensors)."""
    from safetensors.numpy import load, save

    text = json.dumps(state, ensure_ascii=False, default=_json_default)
    payload = save({k: np.ascontiguousarray(v) for k, v in arrays.items()}) if arrays else b""
    return json.loads(text), (load(payload) if payload else {})


def _fingerprint(codec: Codec[Any]) -> tuple[str, dict[str, np.ndarray]]:
    state, arrays = codec.get_state()
    text = json.dumps(state, sort_keys=True, ensure_ascii=False, default=_json_default)
    return text, {k: np.array(v, copy=True) for k, v in arrays.items()}


def _same_state(a: Codec[Any], b: Codec[Any], what: str) -> None:
    (state_a, arrays_a), (state_b, arrays_b) = _fingerprint(a), _fingerprint(b)
    _expect(state_a == state_b, f"{what}: another JSON state")
    _expect(
        sorted(arrays_a) == sorted(arrays_b),
        f"{what}: other arrays ({sorted(arrays_a)} vs {sorted(arrays_b)})",
    )
    for key, array in arrays_a.items():
        other = arrays_b[key]
        same = array.dtype == other.dtype and array.shape == other.shape
        _expect(
            same and np.array_equal(array, other, equal_nan=array.dtype.kind == "f"),
            f"{what}: array {key!r} differs",
        )


def _same_parts(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray], what: str) -> None:
    _expect(sorted(a) == sorted(b), f"{what}: other sub-columns ({sorted(a)} vs {sorted(b)})")
    for key, array in a.items():
        _expect(np.array_equal(array, b[key], equal_nan=True), f"{what}: sub-column {key!r} differs")


def partitions(values: pd.Series) -> list[pd.Series]:
    """Four uneven partitions of ``values``; the first holds only nulls where the column has any."""
    n = len(values)
    if not values.isna().any():
        cut = [0, n // 10, n // 3, (2 * n) // 3, n]
        return [values.iloc[a:b] for a, b in itertools.pairwise(cut)]
    nulls = values[values.isna()].iloc[:5]
    rest = values.drop(nulls.index)
    cut = [0, len(rest) // 10, len(rest) // 2, len(rest)]
    return [nulls, *(rest.iloc[a:b] for a, b in itertools.pairwise(cut))]


class _CodecChecks:
    def __init__(
        self, codec_factory: Callable[[], Codec[Any]], values: pd.Series, support: Support | None
    ) -> None:
        if not callable(codec_factory):
            raise OptionError(f"codec_factory must be a callable giving a new codec, got {codec_factory!r}")
        if not isinstance(values, pd.Series) or len(values) < MIN_VALUES:
            raise DataError(
                f"the codec conformance checks need a pandas Series of at least {MIN_VALUES} values"
            )
        self.factory = codec_factory
        self.values = values
        self.original = values.copy(deep=True)
        self._support = support
        self._codec: Codec[Any] | None = None

    def new(self) -> Codec[Any]:
        codec = self.factory()
        if not isinstance(codec, Codec):
            raise OptionError(
                f"codec_factory() must give a mirage.encoding.Codec, got {type(codec).__name__}"
            )
        return codec

    @property
    def codec(self) -> Codec[Any]:
        """A codec fitted on the values (the first check to need it fits it)."""
        if self._codec is None:
            codec = self.new()
            codec.fit(self.values)
            self._codec = codec
        return self._codec

    @property
    def support(self) -> Support:
        if self._support is not None:
            return self._support
        return SUPPORT[self.codec.column.kind]

    def decoded(self, codec: Codec[Any], seed: int = 0) -> pd.Series:
        parts = codec.encode(self.values)
        return codec.decode(parts, len(self.values), np.random.default_rng(seed), 0)

    # --- the contract ----------------------------------------------------------------------------
    def check_encode_gives_the_declared_subcolumns(self) -> None:
        parts = self.codec.encode(self.values)
        subs = self.codec.subcolumns
        _expect(
            list(parts) == [s.name for s in subs],
            f"encode gives {list(parts)}, subcolumns say {[s.name for s in subs]}",
        )
        for sub in subs:
            array = parts[sub.name]
            _expect(
                array.shape == (len(self.values),),
                f"{sub.name}: shape {array.shape}, one value a row expected",
            )
            if sub.discrete:
                _expect(
                    array.dtype == np.int64,
                    f"{sub.name}: discrete codes of dtype {array.dtype}, int64 expected",
                )
                inside = array.size == 0 or (array.min() >= 0 and array.max() < sub.cardinality)
                _expect(bool(inside), f"{sub.name}: codes outside [0, {sub.cardinality})")
            else:
                _expect(
                    array.dtype == np.float64, f"{sub.name}: values of dtype {array.dtype}, float64 expected"
                )
                _expect(
                    bool(np.isfinite(array).all()), f"{sub.name}: a continuous sub-column holds NaN or inf"
                )

    def check_decode_inverts_encode_on_the_learned_support(self) -> None:
        decoded = self.decoded(self.codec)
        _expect(
            len(decoded) == len(self.values), f"decode gives {len(decoded)} values for {len(self.values)}"
        )
        self.support(self.values.reset_index(drop=True), decoded, self.codec)
        again = self.codec.encode(decoded)
        _same_parts(self.codec.encode(self.values), again, "encode(decode(encode(x))) != encode(x)")

    def check_decode_restores_the_dtype(self) -> None:
        decoded = self.decoded(self.codec)
        _expect(
            decoded.dtype == self.values.dtype,
            f"decode gives dtype {decoded.dtype}, {self.values.dtype} expected",
        )
        _expect(
            decoded.name == self.values.name,
            f"decode names the values {decoded.name!r}, not {self.values.name!r}",
        )

    def check_same_seed_same_values(self) -> None:
        first, second = self.decoded(self.codec, DECODE_SEED), self.decoded(self.codec, DECODE_SEED)
        pd.testing.assert_series_equal(first, second)

    def check_state_round_trips_through_the_model_file(self) -> None:
        state, arrays = _through_model_file(*self.codec.get_state())
        restored = self.new()
        restored.set_state(state, arrays)
        _same_state(self.codec, restored, "restored from the model file")
        _expect(restored.subcolumns == self.codec.subcolumns, "the restored codec has other sub-columns")
        pd.testing.assert_series_equal(
            self.decoded(restored, DECODE_SEED), self.decoded(self.codec, DECODE_SEED)
        )

    def check_codecs_never_write_into_the_schema(self) -> None:
        codec = self.new()
        before = codec.column.to_dict()
        codec.fit(self.values)
        _expect(codec.column.to_dict() == before, "fit wrote into the column")
        restored = self.new()
        before = restored.column.to_dict()
        restored.set_state(*_through_model_file(*codec.get_state()))
        _expect(restored.column.to_dict() == before, "set_state wrote into the column")
        pd.testing.assert_series_equal(self.values, self.original)

    def check_fitting_on_partitions_then_reducing_equals_fitting_on_the_whole(self) -> None:
        merged = self.new()
        merged.reduce([merged.analyze(part) for part in partitions(self.values)])
        _same_state(self.codec, merged, f"fitted on {PARTITIONS} partitions")
        _same_parts(
            self.codec.encode(self.values), merged.encode(self.values), f"fitted on {PARTITIONS} partitions"
        )

    def check_stats_are_frozen_and_compare_by_value(self) -> None:
        stats = self.new().analyze(self.values)
        _expect(
            stats == self.new().analyze(self.values), "analyze gives stats that differ for the same values"
        )
        names = [f.name for f in fields(stats)] if is_dataclass(stats) else list(vars(stats))
        for name in names:
            try:
                setattr(stats, name, None)
            except AttributeError:
                continue
            raise AssertionError(f"stats.{name} can be set: stats must be frozen")

    def check_reducing_nothing_is_a_clear_error(self) -> None:
        try:
            self.new().reduce([])
        except MirageError as exc:
            _expect("no partition" in str(exc), f"reduce([]): the error does not say 'no partition': {exc}")
            return
        raise AssertionError("reduce([]) raised no MirageError")


CODEC_CHECKS: tuple[str, ...] = tuple(name for name in vars(_CodecChecks) if name.startswith("check_"))


def codec_checks(
    codec_factory: Callable[[], Codec[Any]], values: pd.Series, *, support: Support | None = None
) -> dict[str, Callable[[], None]]:
    """Each conformance check of the codecs ``codec_factory()`` gives, on ``values``, by name (see
    ``CODEC_CHECKS``).  The checks share one fit.  ``support`` compares ``decode(encode(values))``
    with ``values`` (default: by the column's kind, see this module's docstring)."""
    checks = _CodecChecks(codec_factory, values, support)
    return {name: getattr(checks, name) for name in CODEC_CHECKS}


def check_codec(
    codec_factory: Callable[[], Codec[Any]], values: pd.Series, *, support: Support | None = None
) -> None:
    """Run every conformance check of the codecs ``codec_factory()`` gives on ``values`` (a column of
    at least 20 values); ``AssertionError`` names the first check that fails."""
    for name, check in codec_checks(codec_factory, values, support=support).items():
        try:
            check()
        except AssertionError as exc:
            raise AssertionError(f"codec of column {values.name!r}: {name[len('check_') :]}: {exc}") from exc
