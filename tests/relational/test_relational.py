"""RelationalSynthesizer on Northwind and on a deeper database: keys, integrity, children per parent,
second parents, self-references, dates after their parent's, determinism."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import EncodingOptions
from mirage.encoding.marginal import knot_count
from mirage.engines import CartSynthesizer, EngineTags
from mirage.engines._registry import ENGINES
from mirage.errors import DataError, OptionError, SchemaError
from mirage.relational import RelationalSynthesizer
from mirage.relational._cardinality import cardinality_similarity
from mirage.schema import DatabaseSchema, ForeignKey, Table, infer_schema
from tests.relational.schemas import (
    children_per_parent,
    deep_database,
    deep_frames,
    northwind_database,
    northwind_frames,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def northwind() -> tuple[dict[str, pd.DataFrame], DatabaseSchema, RelationalSynthesizer]:
    frames = northwind_frames()
    database = northwind_database(frames)
    return frames, database, RelationalSynthesizer(database, seed=0).fit(frames)


@pytest.fixture(scope="module")
def deep() -> tuple[dict[str, pd.DataFrame], DatabaseSchema, RelationalSynthesizer]:
    """With ``cart``, which resolves the deep schema's structure exactly (the default ``gmm`` only in
    part: :func:`test_the_default_engine_keeps_most_of_the_structure`)."""
    frames = deep_frames()
    database = deep_database(frames)
    return frames, database, RelationalSynthesizer(database, engine="cart", seed=0).fit(frames)


def test_northwind_sample_has_full_integrity_and_every_table(northwind) -> None:
    frames, database, model = northwind
    synthetic = model.sample(seed=1)
    assert database.integrity_problems(synthetic) == []
    assert set(synthetic) == set(frames)
    for name, frame in synthetic.items():
        assert list(frame.columns) == list(frames[name].columns)
    assert len(synthetic["customers"]) == len(frames["customers"])  # a root table: scale 1.0
    assert len(synthetic["products"]) == len(frames["products"])
    assert 0.8 * len(frames["orders"]) < len(synthetic["orders"]) < 1.2 * len(frames["orders"])


def test_primary_keys_are_new_and_in_the_source_format(northwind) -> None:
    frames, database, model = northwind
    synthetic = model.sample(seed=1)
    assert database.integrity_problems(synthetic) == []
    customers = synthetic["customers"]["customer_id"]
    assert customers.is_unique
    assert all(re.fullmatch(r"[A-Z]{5}", key) for key in customers)
    assert len(set(customers) & set(frames["customers"]["customer_id"])) <= 2  # regenerated, not copied
    orders = synthetic["orders"]["order_id"]
    assert orders.is_unique and pd.api.types.is_integer_dtype(orders.dtype)
    assert pd.api.types.is_integer_dtype(synthetic["order_details"]["product_id"].dtype)
    # a composite key made of two foreign keys stays unique: an order names a product once
    assert not synthetic["order_details"][["order_id", "product_id"]].duplicated().any()


def test_key_columns_are_never_learned(northwind) -> None:
    _, database, model = northwind
    for name, engine in model.engines_.items():
        assert engine is not None
        learned = set(engine.schema_.names) | set(
            engine.context_schema_.names if engine.context_schema_ is not None else []
        )
        assert not learned & set(database.key_columns(name)), name


def test_children_per_parent_are_reproduced(northwind) -> None:
    frames, database, model = northwind
    customers_orders, orders_lines, _ = database.foreign_keys
    # over several databases, as one synthetic Northwind has only 91 customers
    samples = [model.sample(seed=seed, scale=3.0) for seed in range(3)]
    assert all(database.integrity_problems(s) == [] for s in samples)
    scores = [
        (cardinality_similarity(frames, s, customers_orders), cardinality_similarity(frames, s, orders_lines))
        for s in samples
    ]
    mean = np.mean(scores, axis=0)
    assert mean[0] >= 0.88
    assert mean[1] >= 0.93


def test_encoding_options_trade_privacy_for_the_tails_of_children_per_parent(northwind) -> None:
    """With rare_min_count 3 instead of 10, customers with 0 to 3 orders and those with 16 or more are
    no longer folded into the protected range; with the default, the count's learned shape (means of
    runs of 10 customers) brings the tails back all the same (0.896 before it)."""
    frames, database, default = northwind
    customers_orders = database.foreign_keys[0]
    looser = RelationalSynthesizer(database, seed=0).fit(
        frames, encoding_options={"customers": EncodingOptions(rare_min_count=3)}
    )
    assert looser.engines_["customers"].encoding_.rare_min_count == 3
    assert looser.engines_["orders"].encoding_.rare_min_count == 10

    def similarity(model: RelationalSynthesizer) -> float:
        samples = [model.sample(seed=seed, scale=3.0) for seed in range(3)]
        assert all(database.integrity_problems(s) == [] for s in samples)
        return float(np.mean([cardinality_similarity(frames, s, customers_orders) for s in samples]))

    assert similarity(looser) >= 0.92
    assert similarity(default) >= 0.93
    with pytest.raises(OptionError, match="encoding_options: no table 'shops'"):
        RelationalSynthesizer(database).fit(frames, encoding_options={"shops": EncodingOptions()})


def test_big_parents_have_many_children(deep) -> None:
    """The parent's columns condition its number of children, at every depth: large stores have three
    times as many visits as small ones, online visits four times as many lines as walk-ins (on
    average, 4 against 2)."""
    frames, database, model = deep
    synthetic = model.sample(seed=2)
    assert database.integrity_problems(synthetic) == []

    for data in (frames, synthetic):
        visits = children_per_parent(data, "stores", "store_id", "visits", "size")
        assert visits["large"] > 2 * visits["small"]
        lines = children_per_parent(data, "visits", "visit_id", "purchases", "channel")
        assert lines["online"] > 1.5 * lines["walk-in"]


def test_scale_multiplies_the_root_tables(northwind) -> None:
    frames, database, model = northwind
    synthetic = model.sample(seed=3, scale=2.0)
    assert len(synthetic["customers"]) == 2 * len(frames["customers"])
    assert len(synthetic["products"]) == 2 * len(frames["products"])
    assert 1.6 * len(frames["orders"]) < len(synthetic["orders"]) < 2.4 * len(frames["orders"])
    assert database.integrity_problems(synthetic) == []
    empty = model.sample(seed=3, scale=0.0)
    assert all(len(frame) == 0 for frame in empty.values())
    assert database.integrity_problems(empty) == []


def test_same_seed_same_database(northwind) -> None:
    frames, database, model = northwind
    first, again, other = model.sample(seed=7), model.sample(seed=7), model.sample(seed=8)
    for name in frames:
        pd.testing.assert_frame_equal(first[name], again[name])
    assert not first["orders"].equals(other["orders"])
    refit = RelationalSynthesizer(database, seed=0).fit(frames).sample(seed=7)
    for name in frames:
        pd.testing.assert_frame_equal(first[name], refit[name])
    assert database.integrity_problems(other) == []


def test_the_second_parent_is_matched_not_drawn_at_random(northwind) -> None:
    """An order line's price follows its product's price (the line learned the product's columns)."""
    _, database, model = northwind
    synthetic = model.sample(seed=4)
    assert database.integrity_problems(synthetic) == []

    def price_correlation(data: dict[str, pd.DataFrame]) -> float:
        joined = data["order_details"].merge(data["products"], on="product_id", suffixes=("", "_product"))
        return float(np.corrcoef(joined["unit_price"], joined["unit_price_product"])[0, 1])

    assert price_correlation(synthetic) > 0.4
    shuffled = {**synthetic, "order_details": synthetic["order_details"].copy()}
    rng = np.random.default_rng(0)
    shuffled["order_details"]["product_id"] = rng.permutation(shuffled["order_details"]["product_id"])
    assert price_correlation(synthetic) > price_correlation(shuffled) + 0.3


def test_deep_database_keeps_integrity_at_every_depth(deep) -> None:
    frames, database, model = deep
    assert database.deferred() == [database.foreign_keys[2]]  # employees.reports_to: a self-reference
    synthetic = model.sample(seed=1)
    assert database.integrity_problems(synthetic) == []
    for fk in database.foreign_keys:
        if fk.self_reference:
            continue
        assert cardinality_similarity(frames, synthetic, fk) >= 0.55, fk.name
    for fk in (database.foreign_keys[5],):  # visits -> purchases, depth 4
        assert cardinality_similarity(frames, synthetic, fk) >= 0.9
    visits = synthetic["visits"]["visit_id"]
    assert all(re.fullmatch(r"V\d{6}", key) for key in visits)


def test_the_default_engine_keeps_most_of_the_structure() -> None:
    """``gmm`` (the default, for the no-copying bar) follows the parent's columns less closely than
    ``cart``: large stores have about 3.1 times the visits of small ones (real 3.2, cart 3.2; 1.7 before
    its codes' scores were redrawn, 2.4 with 5 sweeps), and the directors report to no one in about 0.9
    of the rows (real: all)."""
    frames = deep_frames()
    database = deep_database(frames)
    model = RelationalSynthesizer(database, seed=0).fit(frames)
    stores = model.engines_["stores"]
    assert stores.name == "gmm" and stores.quantiles is None and stores.code_rounds == 20
    # the children counts rank the parents: a knot per rare_min_count rows, not chosen on held-out rows
    knots = stores.training_["gmm"]["knots"]
    assert knots["#visits.store_id::value"] == knot_count(len(frames["stores"]), 10, 1000)
    assert knots["opened::value"] < knots["#visits.store_id::value"]
    synthetic = model.sample(seed=2)
    assert database.integrity_problems(synthetic) == []
    per_size = children_per_parent(synthetic, "stores", "store_id", "visits", "size")
    assert per_size["large"] > 2.5 * per_size["small"]
    employees = synthetic["employees"]
    directors = employees["title"] == "director"
    assert employees.loc[directors, "reports_to"].isna().mean() > 0.7


def test_self_reference_keeps_its_null_share_and_who_has_none(deep) -> None:
    frames, database, model = deep
    synthetic = model.sample(seed=2)
    assert database.integrity_problems(synthetic) == []
    employees = synthetic["employees"]
    real_null = frames["employees"]["reports_to"].isna().mean()
    assert abs(employees["reports_to"].isna().mean() - real_null) < 0.05
    # in the real data exactly the directors report to no one
    directors = employees["title"] == "director"
    assert employees.loc[directors, "reports_to"].isna().mean() > 0.8
    assert employees.loc[~directors, "reports_to"].notna().mean() > 0.95
    assert not (employees["reports_to"] == employees["employee_id"]).any()


def test_nullable_second_parent_keeps_its_null_share(deep) -> None:
    frames, database, model = deep
    synthetic = model.sample(seed=3)
    assert database.integrity_problems(synthetic) == []
    visits = synthetic["visits"]
    assert abs(visits["served_by"].isna().mean() - frames["visits"]["served_by"].isna().mean()) < 0.05


def test_child_dates_follow_their_parent_dates(deep) -> None:
    _, database, model = deep
    plan = model.plans_["purchases"]
    assert plan.base == "visited" and plan.offsets["delivered"].unit == "days"
    synthetic = model.sample(seed=4)
    assert database.integrity_problems(synthetic) == []
    visits = synthetic["visits"].merge(synthetic["stores"], on="store_id")
    assert (pd.to_datetime(visits["visited"]) > pd.to_datetime(visits["opened"])).all()
    purchases = synthetic["purchases"].merge(synthetic["visits"], on="visit_id")
    delay = (pd.to_datetime(purchases["delivered"]) - pd.to_datetime(purchases["visited"])).dt.days
    assert delay.min() >= 0 and delay.max() <= 12  # the real delays are 0 to 9 days
    assert synthetic["purchases"]["delivered"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_dates_within_a_table_follow_its_first_date(northwind) -> None:
    """An order is required and shipped after it is placed (customers have no date to follow)."""
    frames, database, model = northwind
    plan = model.plans_["orders"]
    assert plan.base is None and plan.anchor == "order_date"
    assert {name: offset.start for name, offset in plan.offsets.items()} == {
        "required_date": "order_date",
        "shipped_date": "order_date",
    }
    synthetic = model.sample(seed=5)
    assert database.integrity_problems(synthetic) == []
    orders = synthetic["orders"]
    placed = pd.to_datetime(orders["order_date"])
    for column in ("required_date", "shipped_date"):
        real = pd.to_datetime(frames["orders"][column]) - pd.to_datetime(frames["orders"]["order_date"])
        delay = (pd.to_datetime(orders[column]) - placed).dt.days.dropna()
        assert delay.min() >= 0 and delay.max() <= real.dt.days.max() + 7
    assert orders["shipped_date"].isna().any()  # the null share survives the offset
    assert orders["order_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert orders["order_id"].dtype == frames["orders"]["order_id"].dtype
    assert synthetic["customers"]["customer_id"].dtype == frames["customers"]["customer_id"].dtype


def test_many_to_many_link_table_and_a_nullable_key() -> None:
    """students <-> courses through enrolments (keys only, each pair once); departments and their head,
    a nullable key to students."""
    rng = np.random.default_rng(0)
    students = pd.DataFrame({"student_id": np.arange(200), "year": rng.integers(1, 5, 200)})
    courses = pd.DataFrame(
        {"course_id": [f"C{i:03d}" for i in range(30)], "dept_id": rng.integers(0, 20, 30)}
    )
    pairs = {
        (int(s), f"C{int(c):03d}")
        for s, c in zip(rng.integers(0, 200, 900), rng.integers(0, 30, 900), strict=True)
    }
    enrolments = pd.DataFrame(sorted(pairs), columns=["student_id", "course_id"])
    heads = rng.choice(students["student_id"].to_numpy(), 20, replace=False).astype(float)
    heads[:4] = np.nan
    departments = pd.DataFrame({"dept_id": np.arange(20), "budget": rng.normal(1000, 100, 20), "head": heads})
    frames = {"students": students, "courses": courses, "enrolments": enrolments, "departments": departments}
    keys = {
        "students": ("student_id",),
        "courses": ("course_id",),
        "enrolments": ("student_id", "course_id"),
        "departments": ("dept_id",),
    }
    database = DatabaseSchema(
        tables={n: Table(n, infer_schema(f), primary_key=keys[n]) for n, f in frames.items()},
        foreign_keys=[
            ForeignKey("enrolments", ("student_id",), "students", ("student_id",)),
            ForeignKey("enrolments", ("course_id",), "courses", ("course_id",)),
            ForeignKey("courses", ("dept_id",), "departments", ("dept_id",)),
            ForeignKey("departments", ("head",), "students", ("student_id",), nullable=True),
        ],
    )
    model = RelationalSynthesizer(database, engine="cart", params={"min_samples_leaf": 10}).fit(frames)
    synthetic = model.sample(seed=0, scale=1.0)
    assert database.integrity_problems(synthetic) == []
    assert len(synthetic["enrolments"]) > 0.7 * len(enrolments)
    assert synthetic["departments"]["head"].notna().any()


def test_a_table_with_a_cycle_breaks_it_on_the_nullable_key() -> None:
    rng = np.random.default_rng(1)
    teams = pd.DataFrame({"team_id": np.arange(40), "size": rng.integers(2, 9, 40)})
    people = pd.DataFrame(
        {"person_id": np.arange(300), "team_id": rng.integers(0, 40, 300), "age": rng.integers(20, 65, 300)}
    )
    teams["lead"] = rng.choice(people["person_id"].to_numpy(), 40).astype(float)
    teams.loc[teams.index % 4 == 0, "lead"] = np.nan
    frames = {"teams": teams, "people": people}
    database = DatabaseSchema(
        tables={
            "teams": Table("teams", infer_schema(teams), primary_key=("team_id",)),
            "people": Table("people", infer_schema(people), primary_key=("person_id",)),
        },
        foreign_keys=[
            ForeignKey("teams", ("lead",), "people", ("person_id",), nullable=True),
            ForeignKey("people", ("team_id",), "teams", ("team_id",)),
        ],
    )
    assert database.deferred() == [database.foreign_keys[0]]
    model = RelationalSynthesizer(database, engine="cart", params={"min_samples_leaf": 10}).fit(frames)
    samples = [model.sample(seed=seed) for seed in range(5)]
    assert all(database.integrity_problems(synthetic) == [] for synthetic in samples)
    # a quarter of the 40 teams have no lead; one sample of 40 rows reads that within +-0.15
    assert 0.1 < np.mean([synthetic["teams"]["lead"].isna().mean() for synthetic in samples]) < 0.45


def test_params_globally_or_per_table(northwind) -> None:
    frames, database, _ = northwind
    per_table = RelationalSynthesizer(
        database, engine="cart", params={"orders": {"min_samples_leaf": 20}}
    ).fit(frames)
    assert per_table.engines_["orders"].min_samples_leaf == 20
    assert per_table.engines_["customers"].min_samples_leaf is None
    with pytest.raises(OptionError, match="'min_samples_leaf' is no table"):
        RelationalSynthesizer(database, params={"orders": {}, "min_samples_leaf": 20})
    with pytest.raises(OptionError, match="table 'orders'.*unknown hyperparameter 'leafs'"):
        RelationalSynthesizer(database, engine="cart", params={"orders": {"leafs": 3}}).fit(frames)


@pytest.mark.parametrize(("engine", "params"), [("copula", {}), ("argn", {"max_epochs": 2})])
def test_every_engine_with_context_learns_child_tables(deep, engine: str, params: dict[str, int]) -> None:
    frames, database, _ = deep
    model = RelationalSynthesizer(database, engine=engine, params=params).fit(frames)
    synthetic = model.sample(seed=0)
    assert database.integrity_problems(synthetic) == []
    visits_purchases = database.foreign_keys[5]
    assert cardinality_similarity(frames, synthetic, visits_purchases) >= 0.85
    buffer = io.BytesIO()
    model.save(buffer)
    loaded = RelationalSynthesizer.load(buffer.getvalue())
    for name, frame in loaded.sample(seed=0).items():
        pd.testing.assert_frame_equal(frame, synthetic[name])


def test_a_child_table_needs_an_engine_that_conditions_on_a_context(northwind, monkeypatch) -> None:
    """A user's engine without the context tag can learn root tables only."""
    frames, database, _ = northwind

    class NoContext(CartSynthesizer):
        name = "cart_without_context"
        tags = EngineTags()

    monkeypatch.setitem(ENGINES._classes, NoContext.name, NoContext)
    with pytest.raises(OptionError, match=r"table 'orders' is learned given its parent row.*cart"):
        RelationalSynthesizer(database, engine=NoContext.name).fit(frames)
    model = RelationalSynthesizer(database, engine={"customers": NoContext.name, "products": NoContext.name})
    assert database.integrity_problems(model.fit(frames).sample(seed=0)) == []
    with pytest.raises(OptionError, match="engine: no table 'shops'"):
        RelationalSynthesizer(database, engine={"shops": "cart"})


def test_data_that_breaks_its_keys_is_refused(northwind) -> None:
    frames, database, _ = northwind
    broken = {**frames, "orders": frames["orders"].copy()}
    broken["orders"].loc[0, "customer_id"] = "ZZZZZ"
    with pytest.raises(DataError, match=r"orders\(customer_id\) -> customers\(customer_id\): 1 reference"):
        RelationalSynthesizer(database).fit(broken)
    with pytest.raises(Exception, match="table 'products' is in the schema but not in the data"):
        RelationalSynthesizer(database).fit({k: v for k, v in frames.items() if k != "products"})


def test_composite_keys_a_line_number_and_a_composite_foreign_key() -> None:
    """lines(order_id, line_no) numbers each order's lines from 1; notes refer to a line by both
    columns."""
    rng = np.random.default_rng(2)
    orders = pd.DataFrame({"order_id": np.arange(500, 800), "rush": rng.random(300) < 0.3})
    per_order = 1 + rng.poisson(np.where(orders["rush"], 4, 1))
    order_of_line = np.repeat(orders["order_id"].to_numpy(), per_order)
    lines = pd.DataFrame(
        {
            "order_id": order_of_line,
            "line_no": pd.Series(order_of_line).groupby(order_of_line).cumcount().to_numpy() + 1,
            "amount": rng.gamma(2, 10, order_of_line.size).round(2),
        }
    )
    noted = lines.sample(frac=0.5, random_state=0)
    notes = pd.DataFrame(
        {
            "note_id": [f"N-{i:05d}" for i in range(len(noted))],
            "order_id": noted["order_id"].to_numpy(),
            "line_no": noted["line_no"].to_numpy(),
            "urgent": rng.random(len(noted)) < 0.2,
        }
    )
    frames = {"orders": orders, "lines": lines, "notes": notes}
    keys = {"orders": ("order_id",), "lines": ("order_id", "line_no"), "notes": ("note_id",)}
    database = DatabaseSchema(
        tables={n: Table(n, infer_schema(f), primary_key=keys[n]) for n, f in frames.items()},
        foreign_keys=[
            ForeignKey("lines", ("order_id",), "orders", ("order_id",)),
            ForeignKey("notes", ("order_id", "line_no"), "lines", ("order_id", "line_no")),
        ],
    )
    model = RelationalSynthesizer(database).fit(frames)
    assert model.plans_["lines"].counters == {"line_no": 1}
    synthetic = model.sample(seed=0)
    assert database.integrity_problems(synthetic) == []
    lines_out = synthetic["lines"]
    numbering = lines_out.groupby("order_id")["line_no"].apply(
        lambda s: list(s) == list(range(1, len(s) + 1))
    )
    assert numbering.all()
    assert pd.api.types.is_integer_dtype(lines_out["line_no"].dtype)
    assert synthetic["notes"]["note_id"].str.fullmatch(r"N-\d{5}").all()
    assert cardinality_similarity(frames, synthetic, database.foreign_keys[0]) >= 0.85


def test_a_column_named_like_an_added_one_is_refused() -> None:
    parents = pd.DataFrame({"id": np.arange(50), "#kids.parent": np.zeros(50, dtype=int)})
    kids = pd.DataFrame({"kid": np.arange(100), "parent": np.arange(100) % 50, "x": np.arange(100.0)})
    database = DatabaseSchema(
        tables={
            "parents": Table("parents", infer_schema(parents), primary_key=("id",)),
            "kids": Table("kids", infer_schema(kids), primary_key=("kid",)),
        },
        foreign_keys=[ForeignKey("kids", ("parent",), "parents", ("id",))],
    )
    with pytest.raises(SchemaError, match=r"table 'parents': column '#kids.parent' has a name"):
        RelationalSynthesizer(database).fit({"parents": parents, "kids": kids})


def test_empty_tables_stay_empty(northwind) -> None:
    frames, database, _ = northwind
    empty = {**frames, "order_details": frames["order_details"].iloc[:0]}
    synthetic = RelationalSynthesizer(database).fit(empty).sample(seed=0)
    assert database.integrity_problems(synthetic) == []
    assert len(synthetic["order_details"]) == 0
    assert list(synthetic["order_details"].columns) == list(frames["order_details"].columns)
    assert len(synthetic["orders"]) > 0


def test_bayesnet_in_a_database_chooses_its_numbers_bins_on_held_out_rows() -> None:
    frames = deep_frames()
    database = deep_database(frames)
    model = RelationalSynthesizer(database, engine="bayesnet", seed=0).fit(frames)
    learned = {name: engine for name, engine in model.engines_.items() if engine is not None}
    assert learned and all(engine.sub_bins is None for engine in learned.values())
    assert learned["employees"].training_["bayesnet"]["bin_rows"]["salary::value"] > 10
    # the children-per-row counts rank the parents: kept at their finest, so large stores keep their visits
    assert not any(name.startswith("#") for name in learned["stores"].training_["bayesnet"]["bin_rows"])
    per_size = children_per_parent(model.sample(seed=2), "stores", "store_id", "visits", "size")
    assert per_size["large"] > 2.8 * per_size["small"]
    assert database.integrity_problems(model.sample(seed=1)) == []
    pinned = RelationalSynthesizer(database, engine="bayesnet", params={"employees": {"sub_bins": 8}}, seed=0)
    pinned.fit(frames)
    assert pinned.engines_["employees"].sub_bins == 8 and pinned.engines_["stores"].sub_bins is None
