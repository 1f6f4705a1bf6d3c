"""The categorical codec: which categories are emitted verbatim (the rare count, and on small tables a
margin over it and a cut the draw of the rows does not decide), and the encoding of values never seen
in training (all rows at once)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import EncodingOptions, TableEncoder, codec_for
from mirage.encoding.categorical import (
    RARE_TOKEN,
    CategoricalCodec,
    CategoryStats,
    clearing_count,
    frequent_categories,
    number_categories_as_numbers,
    number_categories_of_stats,
)
from mirage.engines import get_engine
from mirage.errors import DataError
from mirage.model_file import load_model
from mirage.schema import Column, Kind, Schema, infer_schema


def _fitted(values: pd.Series, rare_min_count: int = 10) -> CategoricalCodec:
    column = Column(str(values.name), Kind.CATEGORICAL, str(values.dtype))
    codec = codec_for(column, EncodingOptions(rare_min_count=rare_min_count))
    assert isinstance(codec, CategoricalCodec)
    codec.fit(values)
    return codec


def test_a_category_that_only_just_reaches_the_count_is_withheld_on_a_small_table() -> None:
    """12 rows of 70 reach rare_min_count 10 but not its margin (10 + floor(1.645 sqrt(12)) = 15)."""
    small = pd.Series(["big"] * 40 + ["near"] * 12 + ["clear"] * 18, name="kind")
    codec = _fitted(small)
    assert codec.categories == ["big", "clear", RARE_TOKEN]


def test_the_same_category_count_is_kept_on_a_large_table() -> None:
    """12 rows of 5,000 are a negligible share: the margin vanishes and the plain count decides."""
    large = pd.Series(["big"] * 4970 + ["near"] * 12 + ["scarce"] * 9 + ["few"] * 9, name="kind")
    codec = _fitted(large)
    assert codec.categories == ["big", "near", RARE_TOKEN]


def test_missing_rows_count_in_the_share() -> None:
    """The same 12 rows among 70 present ones: a small share of a column mostly missing."""
    counts = {"big": 40, "near": 12, "clear": 18}
    assert frequent_categories(counts, 10, rows=70) == ["big", "clear"]
    assert frequent_categories(counts, 10, rows=5000) == ["big", "near", "clear"]
    assert frequent_categories(counts, 10) == ["big", "near", "clear"]  # no rows: no margin


def test_numbers_fold_into_their_neighbours_without_the_margin() -> None:
    """Ordinal categories are not withheld but top/bottom coded, so no margin: 12 of 70 rows is kept
    where it stands apart from its neighbours' counts and from rare_min_count (12 - 9 >= sqrt(12)
    fails, 13 - 9 passes)."""
    codec = _fitted(pd.Series([1] * 40 + [2] * 13 + [3] * 17, name="n"))
    assert codec.categories == [1, 2, 3]


def test_a_number_the_draw_keeps_is_folded_rather_than_piling_its_neighbours_onto_it() -> None:
    """A 62-row table's reorder levels (Northwind's products): 25 reaches the count of 10 in the draws
    that over-represent it, and then takes the rows of 15, 20 and 30 as well; the cut moves up to the
    value that stands apart (19 rows against 11)."""
    counts = {0: 19, 5: 6, 10: 6, 15: 8, 20: 6, 25: 11, 30: 6}
    assert frequent_categories(counts, 10, rows=62, margin=False) == [0]
    values = pd.Series([v for v, c in counts.items() for _ in range(c)], name="reorder_level")
    assert _fitted(values).categories == [0]
    assert frequent_categories(counts, 10) == [0, 25]  # no rows: the plain count


def test_categories_that_stand_apart_only_together_are_kept_together() -> None:
    """Three categories of 13, 16 and 19 rows in 48 (the deep database's region climates): the margin
    (10 + floor(1.645 sqrt(count))) keeps only the one the draw gave 19, which the training rows
    over-represent; none of the three stands apart from the others, all of them from the rare count."""
    counts = {"cold": 13, "mild": 16, "hot": 19}
    assert frequent_categories(counts, 10, rows=48) == ["cold", "mild", "hot"]
    # 12 is too near the rare count to stand apart from it: the margin's categories stay
    assert frequent_categories({"cold": 12, "mild": 16, "hot": 20}, 10, rows=48) == ["mild", "hot"]


def test_small_tables_keep_no_categories_that_the_split_over_represents() -> None:
    """The purpose, read as the DCR share does on one column: 60 rows of three climates split 48/12
    over 200 seeds, synthetic values drawn at the codec's training frequencies; a value's vote is the
    training share of the real rows holding it (the rare token matches none: the training share of
    all rows).  0.5: no closer to the training rows than to fresh ones; 0.520 here, 0.575 with the
    margin alone (before)."""
    rng = np.random.default_rng(0)
    climates = pd.Series(rng.choice(["cold", "mild", "hot"], 60), name="climate")
    shares = []
    for seed in range(200):
        order = np.random.default_rng(seed).permutation(60)
        train, hold = climates.iloc[order[12:]], climates.iloc[order[:12]]
        codec = _fitted(train.reset_index(drop=True))
        emitted = train.map(codec._lookup()).value_counts(normalize=True)
        t, h = train.value_counts(), hold.value_counts()
        vote = {i: t[c] / (t[c] + h.get(c, 0)) if c in t else 0.8 for i, c in enumerate(codec.categories)}
        q = sum(share * vote[code] for code, share in emitted.items())
        shares.append(0.5 + 0.5 * (q - 0.8) / 0.2)
    assert np.mean(shares) < 0.525


def test_kept_categories_are_never_rare_and_are_the_most_frequent() -> None:
    rng = np.random.default_rng(5)
    for _ in range(2000):
        sizes = rng.integers(1, 40, rng.integers(1, 12))
        counts = {f"v{i}": int(c) for i, c in enumerate(sizes)}
        rows = int(sizes.sum() + rng.integers(0, 50))
        for margin in (True, False):
            kept = frequent_categories(counts, 10, rows=rows, margin=margin)
            assert all(counts[v] >= 10 for v in kept)
            dropped = [c for v, c in counts.items() if v not in kept]
            assert not kept or not dropped or min(counts[v] for v in kept) > max(dropped)
            shuffled = dict(reversed(list(counts.items())))
            assert sorted(frequent_categories(shuffled, 10, rows=rows, margin=margin)) == sorted(kept)


def test_the_margin_never_lowers_the_count_and_is_off_without_protection() -> None:
    counts = {"a": 9, "b": 10, "c": 1}
    assert frequent_categories(counts, 10, rows=10**9) == ["b"]
    assert frequent_categories(counts, 1) == ["a", "b", "c"]
    assert [clearing_count(k) for k in (1, 3, 10)] == [1, 7, 16]
    for k in (2, 3, 5, 10, 20):
        n = clearing_count(k)
        assert frequent_categories({"x": n}, k, rows=n) == ["x"]  # a whole table of one category
        # one row fewer does not clear the margin, but stands apart from nothing: kept together
        assert frequent_categories({"x": n - 1, "y": n}, k, rows=2 * n) == ["x", "y"]
        assert frequent_categories({"x": n - 1, "y": 4 * n}, k, rows=5 * n) == ["y"]


def test_unseen_text_values_take_the_rare_code_all_at_once() -> None:
    codec = _fitted(pd.Series(["a"] * 30 + ["b"] * 20 + ["c"] * 2, name="kind"))
    codes = codec.encode(pd.Series(["a", "zz", None, "b", "yy", "c"], name="kind"))["kind::code"]
    rare = codec.categories.index(RARE_TOKEN)
    assert codes.tolist() == [0, rare, 0, 1, rare, rare]


def test_unseen_numbers_take_the_nearest_category_the_first_of_two_equally_near() -> None:
    codec = _fitted(pd.Series([1] * 30 + [5] * 30 + [9] * 20, name="n"))
    assert codec.categories == [1, 5, 9]
    values = pd.Series([0.0, 2.9, 3.0, 3.1, 7.0, 100.0, -np.inf, np.inf, 5], name="n")
    codes = codec.encode(values)["n::code"]
    assert codes.tolist() == [0, 0, 0, 1, 1, 2, 0, 2, 1]


def test_unseen_values_in_a_number_column_that_are_not_numbers_take_the_most_frequent() -> None:
    codec = _fitted(pd.Series([1] * 30 + [5] * 40 + [9] * 20, name="n"))
    values = pd.Series(np.array([8.0, "text", 2, None], dtype=object), name="n")
    assert codec.encode(values)["n::code"].tolist() == [2, 1, 0, 1]


def test_a_large_unseen_batch_matches_the_value_by_value_rule() -> None:
    rng = np.random.default_rng(3)
    codec = _fitted(pd.Series(rng.integers(0, 20, 2000) * 5, name="n"))
    grid = np.asarray(codec.categories, dtype="float64")
    values = rng.normal(50, 40, 100_000).round(1)
    codes = codec.encode(pd.Series(values, name="n"))["n::code"]
    sample = rng.choice(values.size, 500, replace=False)
    expected = [int(np.abs(grid - values[i]).argmin()) for i in sample]
    assert codes[sample].tolist() == expected


def test_a_column_without_categories_names_the_unseen_value() -> None:
    codec = _fitted(pd.Series([None, None], name="empty", dtype=object))
    with pytest.raises(DataError, match="column 'empty': value 'new' was never seen in training"):
        codec.encode(pd.Series(["new"], name="empty"))


def test_new_codes_for_rare_values_keep_each_number_of_the_format_within_the_column() -> None:
    """ISO weeks of 6-9 rows each are all rare: they were written as new codes of the format's full
    width (``2024-W81``); each number of the format now keeps within its rare_min_count-th smallest and
    largest over the rows (a template's number alike)."""
    import json

    rng = np.random.default_rng(0)
    weeks = pd.Series([f"2024-W{w:02d}" for w in rng.integers(1, 53, 400)], name="week")
    column = Column("week", Kind.CATEGORICAL, dtype="object", id_format="2024-W99")
    codec = codec_for(column, EncodingOptions())
    assert isinstance(codec, CategoricalCodec)
    codec.fit(weeks)
    assert RARE_TOKEN in codec.categories and len(codec.categories) < 5
    low, high = codec.code_ranges[0] if codec.code_ranges else (0, 99)
    assert 1 <= low <= 3 and 50 <= high <= 52
    codes = np.full(3000, codec.categories.index(RARE_TOKEN), dtype="int64")
    out = codec.decode({"week::code": codes}, 3000, np.random.default_rng(1), 0)
    numbers = out.str[-2:].astype(int)
    assert numbers.between(low, high).all() and numbers.nunique() == high - low + 1
    state, arrays = codec.get_state()
    loaded = codec_for(column, EncodingOptions())
    loaded.set_state(json.loads(json.dumps(state)), arrays)
    assert loaded.decode({"week::code": codes}, 3000, np.random.default_rng(1), 0).tolist() == out.tolist()
    older = {k: v for k, v in state.items() if k != "code_ranges"}  # written before the ranges
    loaded.set_state(older, arrays)
    assert loaded.code_ranges is None
    with pytest.raises(Exception, match="code_ranges"):
        loaded.set_state({**state, "code_ranges": [[5, 2]]}, arrays)

    template = Column("order", Kind.CATEGORICAL, dtype="object", id_format="ORD-{:05d}")
    orders = pd.Series([f"ORD-{v:05d}" for v in rng.integers(100, 400, 500)], name="order")
    codec = codec_for(template, EncodingOptions())
    codec.fit(orders)
    rare = np.full(500, codec.categories.index(RARE_TOKEN), dtype="int64")
    drawn = codec.decode({"order::code": rare}, 500, np.random.default_rng(2), 0)
    assert drawn.str[4:].astype(int).between(100, 399).all()


def _categorical(name: str, dtype: str = "int64", **more: object) -> dict[str, object]:
    return {"name": name, "kind": "categorical", "dtype": dtype, **more}


def test_number_categories_whose_rare_values_hold_many_rows_turn_into_numbers() -> None:
    frame = pd.DataFrame(
        {
            "rare": np.repeat([1, 2, 3, 4], [6, 5, 4, 5]),
            "one_kept": np.repeat([1, 2, 3, 4], [14, 2, 2, 2]),  # 6 of 20 rows would fold into the 1s
            "declared": np.repeat([1, 2, 3, 4], [6, 5, 4, 5]),
            "words": np.repeat(["a", "b", "c", "d"], [6, 5, 4, 5]),
        }
    )
    columns = [_categorical("rare"), _categorical("one_kept")]
    columns += [_categorical("declared", categories=[1, 2, 3, 4]), _categorical("words", "str")]
    schema = Schema.from_dict({"columns": columns})
    turned = number_categories_as_numbers(schema, frame, rare_min_count=10)
    assert [c.kind for c in turned] == [Kind.NUMERIC, Kind.NUMERIC, Kind.CATEGORICAL, Kind.CATEGORICAL]
    assert turned["rare"].integer and (turned["rare"].minimum, turned["rare"].maximum) == (1.0, 4.0)
    assert schema["rare"].kind is Kind.CATEGORICAL  # the given schema is left as it was
    assert number_categories_as_numbers(schema, frame, rare_min_count=1) is schema


def test_number_categories_turn_alike_from_partitions_statistics() -> None:
    frame = pd.DataFrame(
        {
            "rare": np.repeat([1.0, 2.0, 3.0, 4.0, np.nan], [6, 5, 4, 5, 3]),
            "one_kept": np.repeat([1, 2, 3, 4, 1], [14, 2, 2, 2, 3]),
            "categorical_dtype": pd.Categorical(np.repeat([1, 2, 3, 4, 1], [6, 5, 4, 5, 3])),
            "words": np.repeat(["a", "b", "c", "d", "a"], [6, 5, 4, 5, 3]),
        }
    )
    columns = [_categorical("rare", "float64", nullable=True), _categorical("one_kept")]
    columns += [_categorical("categorical_dtype", "category"), _categorical("words", "str")]
    schema = Schema.from_dict({"columns": columns})
    encoder = TableEncoder(schema, EncodingOptions(rare_min_count=10))
    parts = (frame.iloc[:11], frame.iloc[11:])
    halves = [dict(zip(schema.names, encoder.analyze(part), strict=True)) for part in parts]
    merged = {name: CategoryStats.merge([half[name] for half in halves], name) for name in schema.names}
    turned = number_categories_of_stats(schema, merged, rare_min_count=10)
    assert turned == number_categories_as_numbers(schema, frame, rare_min_count=10)
    assert [c.kind for c in turned] == [Kind.NUMERIC, Kind.NUMERIC, Kind.CATEGORICAL, Kind.CATEGORICAL]
    assert turned["rare"].nullable and turned["rare"].maximum == 4.0
    assert number_categories_of_stats(schema, merged, rare_min_count=1) is schema


def test_number_categories_of_which_few_rows_are_rare_stay_categories() -> None:
    frame = pd.DataFrame({"children": np.repeat([0, 1, 2, 3], [60, 35, 4, 1])})  # 5 rows in 100 fold
    schema = Schema.from_dict({"columns": [_categorical("children")]})
    assert number_categories_as_numbers(schema, frame, rare_min_count=10) is schema


REORDER_LEVELS = {0: 24, 5: 8, 10: 7, 15: 10, 20: 8, 25: 12, 30: 8}  # a product table's, 77 rows


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("engine", ["cart", "copula"])
def test_a_number_column_of_mostly_rare_values_keeps_its_spread_through_a_model_file(
    engine: str, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    levels = rng.permutation(np.repeat(list(REORDER_LEVELS), list(REORDER_LEVELS.values())))
    products = pd.DataFrame({"reorder_level": levels, "price": rng.lognormal(2, 0.5, levels.size).round(2)})
    assert infer_schema(products)["reorder_level"].kind is Kind.CATEGORICAL
    model = get_engine(engine)(seed=0).fit(products)
    assert model.schema_["reorder_level"].kind is Kind.CATEGORICAL  # the user's schema, as given
    model.save(tmp_path / "products.mirage")
    drawn = load_model(tmp_path / "products.mirage").sample(500, seed=0)["reorder_level"]
    assert pd.api.types.is_integer_dtype(drawn.dtype)
    assert drawn.between(0, 30).all()
    assert (drawn == 0).mean() < 0.6  # as categories the fold put every row on the 24 zeros
    assert drawn.nunique() > 3


def test_categories_a_small_table_cannot_keep_are_named_in_a_warning() -> None:
    """Three categories of 10 rows in 30 reach rare_min_count but not its margin: every row comes back
    as the rare token, and the fit says so (nothing did before)."""
    from mirage._warnings import MirageWarning
    from mirage.engines import ENGINES

    data = pd.DataFrame({"n": np.arange(30.0) % 7, "b": ["x0", "x1", "x2"] * 10})
    with pytest.warns(MirageWarning, match=r"column 'b': 100% of its 30 rows hold categories too small"):
        model = ENGINES["cart"]().fit(data)
    assert set(model.sample(50, seed=0)["b"]) == {"_RARE_"}


def test_without_weighing_by_share_many_entities_near_the_cut_each_need_the_full_margin() -> None:
    # 30 customers of 14 rows each: each is 1/30 of the table, so its own margin is 4 rows and all are
    # kept; but together they are the whole table, and weighed in full each needs 10 + 6 rows
    near = {f"customer {i}": 14 for i in range(30)}
    assert frequent_categories(near, 10, 420) == list(near)
    assert frequent_categories(near, 10, 420, by_share=False) == []
    clear = {f"customer {i}": 17 for i in range(30)}
    assert frequent_categories(clear, 10, 510, by_share=False) == list(clear)
