"""Business rules: declared in Python and JSON, satisfied by every row each engine draws."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._warnings import MirageWarning
from mirage.control import (
    AllowedCombinations,
    Format,
    Formula,
    Inequality,
    Predicate,
    Range,
    Rule,
    Unique,
    rule_from_dict,
)
from mirage.engines import Between
from mirage.errors import DataError, MirageError, ModelFileError, OptionError, SchemaError
from mirage.schema import Schema, infer_schema

ENGINES = {
    "cart": {},
    "copula": {},
    "argn": {"max_epochs": 2},
}
CITIES = {"FR": ["Paris", "Lyon", "Nice"], "DE": ["Berlin", "Bonn"], "IT": ["Rome", "Milan", "Turin"]}


def trips(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A table with known rules: dates in order, a total that is a sum, cities within countries."""
    rng = np.random.default_rng(seed)
    country = rng.choice(list(CITIES), n)
    city = [rng.choice(CITIES[c]) for c in country]
    order = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    ship = order + pd.to_timedelta(rng.poisson(3, n), unit="D")
    fare = np.round(rng.gamma(4, 5, n), 2)
    tip = np.round(rng.uniform(0, 5, n), 2)
    tolls = np.round(rng.choice([0.0, 2.5, 5.0], n), 2)
    return pd.DataFrame(
        {
            "order_date": order.strftime("%Y-%m-%d"),
            "ship_date": ship.strftime("%Y-%m-%d"),
            "country": country,
            "city": city,
            "fare": fare,
            "tip": tip,
            "tolls": tolls,
            "total": np.round(fare + tip + tolls, 2),
            "age": rng.integers(18, 90, n),
            "code": [f"{'ABC'[i % 3]}{'XYZ'[i % 2]}Q-{i % 7:04d}" for i in range(n)],
            "score": np.round(rng.normal(0, 1, n), 6),
        }
    )


def trip_rules() -> list[Rule]:
    return [
        Inequality("ship_date", ">=", "order_date"),
        Formula("total", "fare + tip + tolls"),
        AllowedCombinations(["country", "city"]),
        Range("age", 0, 120),
        Range("fare", None, 40),  # the data goes above 40: rows above are drawn again
        Unique("score"),
        Format("code", r"[A-Z]{3}-\d{4}"),
        Predicate(lambda f: f["tip"] <= f["fare"], label="tip at most the fare"),
    ]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return trips()


def ruled_schema(data: pd.DataFrame, rules: list[Rule]) -> Schema:
    schema = infer_schema(data)
    schema.rules = rules
    return schema


def fit_quietly(data: pd.DataFrame, schema: Schema, engine: str, **params: object) -> mirage.Synthesizer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MirageWarning)
        return mirage.fit(data, schema=schema, engine=engine, seed=0, **{**ENGINES[engine], **params})


def assert_rules_hold(rows: pd.DataFrame, schema: Schema) -> None:
    for rule in schema.rules:
        broken = np.flatnonzero(rule.violations(rows, schema))
        assert len(broken) == 0, f"{rule.describe()} broken on rows {broken[:5]}"


@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_rule_holds_on_every_row_each_engine_draws(table: pd.DataFrame, engine: str) -> None:
    data = table.copy()
    data.loc[data["fare"] > 40, "fare"] = 40.0  # most rows inside the range, a few at its edge
    data["total"] = np.round(data["fare"] + data["tip"] + data["tolls"], 2)
    data = pd.concat([data, trips(60, seed=9).assign(fare=45.0)], ignore_index=True)  # some above 40
    data["total"] = np.round(data["fare"] + data["tip"] + data["tolls"], 2)
    data["tip"] = np.minimum(data["tip"], data["fare"])
    data["total"] = np.round(data["fare"] + data["tip"] + data["tolls"], 2)
    schema = ruled_schema(data, trip_rules())
    model = fit_quietly(data, schema, engine)
    rows = model.sample(500, seed=3)
    assert len(rows) == 500 and list(rows.columns) == list(data.columns)
    assert_rules_hold(rows, schema)
    assert rows["fare"].max() <= 40
    assert set(rows["ship_date"].str.len()) == {10}  # dates come back as the source's text


def test_the_rules_hold_where_the_model_knows_nothing_of_them(table: pd.DataFrame) -> None:
    """Without rules the same model breaks them: the tests above test the rules, not luck."""
    model = fit_quietly(table, infer_schema(table), "copula")
    rows = model.sample(500, seed=3)
    rules = [Inequality("ship_date", ">=", "order_date"), Formula("total", "fare + tip + tolls")]
    schema = ruled_schema(table, rules)
    assert all(rule.violations(rows, schema).any() for rule in rules)


def test_a_difference_of_dates_keeps_its_distribution(table: pd.DataFrame) -> None:
    schema = ruled_schema(table, [Inequality("ship_date", ">=", "order_date")])
    model = fit_quietly(table, schema, "cart")
    rows = model.sample(2000, seed=1)

    def days(frame: pd.DataFrame) -> pd.Series:
        return (pd.to_datetime(frame["ship_date"]) - pd.to_datetime(frame["order_date"])).dt.days

    real, synthetic = days(table), days(rows)
    assert (synthetic >= 0).all()
    assert abs(synthetic.mean() - real.mean()) < 0.3  # Poisson(3) days
    shares = pd.concat([real.value_counts(normalize=True), synthetic.value_counts(normalize=True)], axis=1)
    assert float(shares.fillna(0).diff(axis=1).abs().iloc[:, 1].sum()) / 2 < 0.08  # total variation
    order_days = pd.to_datetime(rows["order_date"]).dt.day_of_year
    assert abs(order_days.mean() - pd.to_datetime(table["order_date"]).dt.day_of_year.mean()) < 10


def test_northwind_required_date_keeps_its_usual_four_weeks() -> None:
    orders = pd.read_csv(Path(__file__).resolve().parents[1] / "fixtures/northwind/orders.csv")
    schema = ruled_schema(
        orders,
        [Inequality("shipped_date", ">=", "order_date"), Inequality("required_date", ">=", "order_date")],
    )
    model = fit_quietly(orders, schema, "cart")
    rows = model.sample(1000, seed=2)
    assert_rules_hold(rows, schema)

    def four_weeks(frame: pd.DataFrame) -> float:
        gap = pd.to_datetime(frame["required_date"]) - pd.to_datetime(frame["order_date"])
        return float((gap.dt.days == 28).mean())

    assert abs(four_weeks(rows) - four_weeks(orders)) < 0.05
    assert rows["shipped_date"].isna().mean() == pytest.approx(orders["shipped_date"].isna().mean(), abs=0.03)


def test_a_formula_result_is_computed_from_its_parts(table: pd.DataFrame) -> None:
    schema = ruled_schema(table, [Formula("total", "fare + tip + tolls")])
    model = fit_quietly(table, schema, "copula")
    assert "total" not in model.encoder_.schema.names  # not learned: computed
    rows = model.sample(300, seed=0)
    assert np.allclose(rows["total"], rows["fare"] + rows["tip"] + rows["tolls"], atol=0.006)
    assert rows["total"].dtype == table["total"].dtype


def test_combinations_learned_from_data_or_listed(table: pd.DataFrame) -> None:
    schema = ruled_schema(table, [AllowedCombinations(["country", "city"])])
    rows = fit_quietly(table, schema, "cart").sample(400, seed=0)
    assert all(city in CITIES[country] for country, city in zip(rows["country"], rows["city"], strict=True))
    assert set(rows["city"]) == {c for cities in CITIES.values() for c in cities}

    listed = [["FR", "Paris"], ["DE", "Berlin"], ["IT", "Rome"]]
    schema = ruled_schema(table, [AllowedCombinations(["country", "city"], listed)])
    with pytest.warns(MirageWarning, match=r"allowed combinations of country, city: \d+ training rows"):
        model = mirage.fit(table, schema=schema, engine="cart", seed=0)
    rows = model.sample(200, seed=0)
    assert set(zip(rows["country"], rows["city"], strict=True)) <= {tuple(c) for c in listed}


def test_a_range_narrower_than_the_data_is_met_by_drawing_again(table: pd.DataFrame) -> None:
    schema = ruled_schema(table, [Range("age", 30, 60)])
    with pytest.warns(MirageWarning, match=r"30 <= age <= 60: \d+ training rows break it \(rows \d+"):
        model = mirage.fit(table, schema=schema, engine="copula", seed=0)
    assert model.rules_.how()["30 <= age <= 60"].startswith("rows that break it are drawn again")
    rows = model.sample(300, seed=0)
    assert rows["age"].between(30, 60).all()
    assert rows["age"].nunique() > 20  # not piled on the bounds


def test_unique_holds_across_blocks_and_fails_clearly_when_it_cannot(table: pd.DataFrame) -> None:
    schema = ruled_schema(table, [Unique("score")])
    rows = fit_quietly(table, schema, "cart").sample(1000, seed=0)
    assert rows["score"].is_unique
    schema = ruled_schema(table, [Unique("country")])
    model = fit_quietly(table, schema, "cart")
    assert model.sample(3, seed=0)["country"].is_unique
    with pytest.raises(MirageError, match="rule unique country: .* still break it"):
        model.sample(10, seed=0)


def test_training_rows_that_break_a_rule_are_named() -> None:
    data = trips(200)
    data.loc[[4, 17, 150], "ship_date"] = "2023-01-01"
    schema = ruled_schema(data, [Inequality("ship_date", ">=", "order_date")])
    with pytest.warns(
        MirageWarning, match=r"ship_date >= order_date: 3 training rows break it \(rows 4, 17, 150"
    ):
        model = mirage.fit(data, schema=schema, engine="cart", seed=0)
    assert_rules_hold(model.sample(500, seed=0), schema)

    schema.on_rule_violation = "error"
    with pytest.raises(
        DataError, match=r"ship_date >= order_date: 3 training rows break it \(rows 4, 17, 150"
    ):
        mirage.fit(data, schema=schema, engine="cart", seed=0)

    schema.on_rule_violation = "drop"
    with pytest.warns(MirageWarning, match="3 rows left out of the training data"):
        model = mirage.fit(data, schema=schema, engine="cart", seed=0)
    assert model.n_training_rows_ == 197


@pytest.mark.parametrize("engine", list(ENGINES))
def test_conditions_keep_the_rules_also_on_a_derived_column(table: pd.DataFrame, engine: str) -> None:
    rules = [
        Inequality("ship_date", ">=", "order_date"),
        Formula("total", "fare + tip + tolls"),
        AllowedCombinations(["country", "city"]),
    ]
    schema = ruled_schema(table, rules)
    model = fit_quietly(table, schema, engine)
    rows = model.sample(100, seed=0, conditions={"tolls": 5.0})  # a column the engine learns as it is
    assert (rows["tolls"] == 5.0).all()
    assert_rules_hold(rows, schema)
    # columns a rule derives: the later date, a formula's result, a column of a joint combination
    rows = model.sample(100, seed=0, conditions={"city": "Paris", "total": Between(20, 30), "tolls": 0.0})
    assert (rows["city"] == "Paris").all() and (rows["country"] == "FR").all()
    assert rows["total"].between(20, 30).all() and (rows["tolls"] == 0.0).all()
    assert_rules_hold(rows, schema)
    late = model.sample(50, seed=0, conditions={"ship_date": Between("2024-06-01", "2024-12-31")})
    assert pd.to_datetime(late["ship_date"]).between("2024-06-01", "2024-12-31").all()
    assert_rules_hold(late, schema)


# --- JSON and model files -------------------------------------------------------------------------


def test_every_serialisable_rule_round_trips_through_the_schema_json(table: pd.DataFrame) -> None:
    rules = [r for r in trip_rules() if not isinstance(r, Predicate)]
    rules.append(Range("order_date", "2024-01-01", None))
    rules.append(AllowedCombinations(["country", "city"], [["FR", "Paris"], ["DE", None]]))
    schema = ruled_schema(table, rules)
    schema.suggested_rules = [Inequality("tip", "<", "fare")]
    schema.on_rule_violation = "drop"
    again = Schema.from_json(schema.to_json())
    assert again.rules == rules and again.suggested_rules == schema.suggested_rules
    assert again.on_rule_violation == "drop"
    assert all(rule_from_dict(rule.to_dict()) == rule for rule in rules)
    assert '"rule": "inequality"' in schema.to_json()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"rule": "inequality", "left": "ship_dat", "op": ">=", "right": "order_date"},
            "no column 'ship_dat'",
        ),
        ({"rule": "inequality", "left": "fare", "op": "=>", "right": "tip"}, "op must be one of"),
        (
            {"rule": "inequality", "left": "fare", "op": ">=", "right": "order_date"},
            "compares numeric column",
        ),
        ({"rule": "range", "column": "country", "low": 0}, "column 'country' is categorical"),
        ({"rule": "range", "column": "age", "low": 9, "high": 1}, "low is above high"),
        ({"rule": "range", "column": "age"}, "give low, high or both"),
        ({"rule": "formula", "column": "total", "expression": "fare ** 2"}, "only + - * /"),
        ({"rule": "formula", "column": "total", "expression": "fare + nope"}, "no column 'nope'"),
        ({"rule": "format", "column": "code", "pattern": "[A-Z"}, "not a regular expression"),
        ({"rule": "unique", "column": "code"}, "unknown field 'column'"),
        ({"rule": "predicate"}, "a predicate is Python code"),
        ({"rule": "sorted", "column": "age"}, "unknown rule 'sorted'"),
        ({"rule": "allowed_combinations", "columns": ["country"]}, "needs two or more distinct columns"),
    ],
)
def test_a_bad_rule_names_the_rule_and_column(
    table: pd.DataFrame, entry: dict[str, object], message: str
) -> None:
    data = infer_schema(table).to_dict()
    data["rules"] = [{"rule": "unique", "columns": ["score"]}, entry]
    with pytest.raises(SchemaError, match=r"rules\[1\]") as caught:
        Schema.from_dict(data)
    assert message in str(caught.value)


def test_a_model_file_keeps_the_rules_as_json(table: pd.DataFrame, tmp_path: Path) -> None:
    schema = ruled_schema(
        table,
        [
            Inequality("ship_date", ">=", "order_date"),
            Formula("total", "fare + tip + tolls"),
            Inequality("fare", ">=", "tip"),  # numeric columns whose bounds the schema states
            AllowedCombinations(["country", "city"]),
        ],
    )
    model = fit_quietly(table, schema, "copula")
    path = model.save(tmp_path / "model.mirage")
    loaded = mirage.load(path)
    assert loaded.schema_.rules == schema.rules
    rows = loaded.sample(300, seed=4)
    pd.testing.assert_frame_equal(rows, model.sample(300, seed=4))
    assert_rules_hold(rows, schema)
    manifest = mirage.model_file.read_manifest(path)
    assert manifest["schema"]["rules"][0] == {
        "rule": "inequality",
        "left": "ship_date",
        "op": ">=",
        "right": "order_date",
    }


def test_a_predicate_is_python_only(table: pd.DataFrame, tmp_path: Path) -> None:
    schema = ruled_schema(table, [Predicate(lambda f: f["tip"] < 4, label="small tips")])
    with pytest.raises(
        SchemaError, match="predicate small tips is Python code and cannot be written to JSON"
    ):
        schema.to_json()
    model = fit_quietly(table, schema, "cart")
    assert (model.sample(200, seed=0)["tip"] < 4).all()
    with pytest.raises(SchemaError, match="predicate small tips is Python code"):
        model.save(tmp_path / "model.mirage")
    assert not (tmp_path / "model.mirage").exists()


def test_rules_edited_in_a_model_file_are_refused(table: pd.DataFrame, tmp_path: Path) -> None:
    from tests.model_files import edit_manifest

    schema = ruled_schema(table, [Inequality("ship_date", ">=", "order_date")])
    path = fit_quietly(table, schema, "cart").save(tmp_path / "model.mirage")
    ruled = [{"rule": "inequality", "left": "tip", "op": "<=", "right": "fare"}]
    edited = edit_manifest(path, tmp_path / "edited.mirage", lambda body: body["schema"].update(rules=ruled))
    with pytest.raises(ModelFileError, match="rules: differ from the schema's rules"):
        mirage.load(edited)


def test_rules_on_related_tables_are_refused_not_ignored() -> None:
    from mirage.relational import RelationalSynthesizer
    from tests.relational.schemas import northwind_database, northwind_frames

    frames = northwind_frames()
    database = northwind_database(frames)
    database["orders"].schema.rules = [Inequality("shipped_date", ">=", "order_date")]
    with pytest.raises(
        OptionError, match="table 'orders': business rules .* are not applied to related tables"
    ):
        RelationalSynthesizer(database).fit(frames)


def test_a_later_value_without_its_earlier_one_is_kept(table: pd.DataFrame) -> None:
    """Where the earlier date is missing there is no difference to learn: the later date is learned as
    it is there, so those rows keep their share and their values."""
    data = table.copy()
    data.loc[data.index % 5 == 0, "order_date"] = None
    schema = ruled_schema(data, [Inequality("ship_date", ">=", "order_date")])
    model = fit_quietly(data, schema, "cart")
    assert model.rules_.how()["ship_date >= order_date"].startswith("by construction")
    rows = model.sample(1000, seed=0)
    assert_rules_hold(rows, schema)
    alone = rows["order_date"].isna() & rows["ship_date"].notna()
    assert alone.mean() == pytest.approx(0.2, abs=0.05)
    real_alone = pd.to_datetime(data.loc[data["order_date"].isna(), "ship_date"])
    assert (
        abs(
            pd.to_datetime(rows.loc[alone, "ship_date"]).dt.day_of_year.mean()
            - real_alone.dt.day_of_year.mean()
        )
        < 20
    )


def test_unique_holds_across_the_blocks_of_one_sample(
    table: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mirage.engines._base as base

    monkeypatch.setattr(base, "BLOCK_ROWS", 20)
    # 50 rows in 3 blocks, of the 69 ages cart draws (72 in the data): at 60 a last row can fail to
    # find a free age in 100 redraws, which is the rule's limit, not a block seeing another's ages
    schema = ruled_schema(table, [Unique("age")])
    model = fit_quietly(table, schema, "cart")
    chunks = list(model.sample_chunks(50, seed=0))
    assert len(chunks) == 3
    assert pd.concat(chunks)["age"].is_unique


def test_a_scenario_on_a_model_with_rules_is_refused_clearly(table: pd.DataFrame) -> None:
    schema = ruled_schema(table, [Inequality("ship_date", ">=", "order_date")])
    model = fit_quietly(table, schema, "cart")
    with pytest.raises(OptionError, match="scenario cannot be sampled from a model with business rules"):
        model.sample(10, seed=0, scenario={"shift": {"fare": 1.0}})


def test_a_formula_result_without_its_parts_is_kept(table: pd.DataFrame) -> None:
    """Where the training rows lack a part but have the result, the result is learned as it is: it
    comes out present, not missing, and the formula holds wherever its parts are present."""
    data = table.copy()
    data.loc[data.index % 5 == 0, "tip"] = None
    schema = ruled_schema(data, [Formula("total", "fare + tip + tolls")])
    model = fit_quietly(data, schema, "cart")
    rows = model.sample(500, seed=2)
    without = rows["tip"].isna()
    assert 0.1 < without.mean() < 0.3
    assert rows["total"].notna().all()
    assert rows.loc[without, "total"].between(data["total"].min(), data["total"].max()).all()
    assert_rules_hold(rows, schema)


@pytest.mark.parametrize("engine", ["cart", pytest.param("argn", marks=pytest.mark.slow)])
def test_impute_on_a_model_whose_rules_rewrite_columns(table: pd.DataFrame, engine: str) -> None:
    rules = [
        Inequality("ship_date", ">=", "order_date"),
        Formula("total", "fare + tip + tolls"),
        AllowedCombinations(["country", "city"]),
    ]
    schema = ruled_schema(table, rules)
    model = (
        fit_quietly(table, schema, engine, max_epochs=1)
        if engine == "argn"
        else fit_quietly(table, schema, engine)
    )
    holed = table.head(120).copy()
    holed.loc[holed.index % 3 == 0, "ship_date"] = None
    holed.loc[holed.index % 4 == 0, "city"] = None
    holed.loc[holed.index % 5 == 0, "total"] = None
    filled = model.impute(holed, seed=1)
    assert filled.notna().all().all()
    observed = holed.notna()
    for column in holed.columns:
        kept = observed[column]
        assert filled.loc[kept, column].astype(str).tolist() == holed.loc[kept, column].astype(str).tolist()
    assert_rules_hold(filled, schema)  # a city within its observed country, shipped after ordered
    pd.testing.assert_frame_equal(model.impute(holed, seed=1), filled)
    if engine == "argn":
        scores = model.log_prob(table.head(50))
        assert scores.shape == (50,) and np.isfinite(scores).all()


def test_rules_hold_on_iso_timestamps_with_colon_offsets() -> None:
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2024-01-01 08:00", tz="Europe/Paris")
    order = start + pd.to_timedelta(rng.integers(0, 7200, 300), "h")
    ship = order + pd.to_timedelta(rng.poisson(30, 300), unit="h")

    def iso(stamps: pd.DatetimeIndex) -> pd.Series:
        text = pd.Series(stamps.strftime("%Y-%m-%dT%H:%M:%S%z"))
        return text.str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)

    data = pd.DataFrame({"order_ts": iso(order), "ship_ts": iso(ship), "x": rng.normal(size=300)})
    schema = ruled_schema(data, [Inequality("ship_ts", ">=", "order_ts")])
    assert schema["order_ts"].datetime_format == "%Y-%m-%dT%H:%M:%S%:z"
    rows = fit_quietly(data, schema, "cart").sample(400, seed=1)  # was: ':' is a bad directive
    assert_rules_hold(rows, schema)
    assert rows["ship_ts"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d").all()
