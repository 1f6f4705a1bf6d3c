"""A spec from a fitted model (coarsened statistics of its own samples) or from a schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

import mirage
from mirage.errors import OptionError
from mirage.evaluation._pairs import column_pair_scores
from mirage.evaluation._shapes import column_shape_scores
from mirage.spec import generate, load_spec, spec_from_dict, spec_from_model, spec_from_schema, write_spec
from mirage.spec._export import QUANTILES
from tests.cli.helpers import error_line, invoke
from tests.conftest import shared_csv


@pytest.fixture(scope="module")
def insurance() -> pd.DataFrame:
    return pd.read_csv(shared_csv("insurance.csv"))


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, schema: mirage.Schema) -> float:
    shapes = column_shape_scores(real, synthetic, schema)
    _, pairs = column_pair_scores(real, synthetic, schema)
    return float((shapes["score"].mean() + pairs) / 2)


@pytest.mark.parametrize("engine", ["copula", "cart"])
def test_regenerated_data_scores_within_005_of_the_models_own_samples(
    insurance: pd.DataFrame, engine: str
) -> None:
    model = (mirage.CopulaSynthesizer if engine == "copula" else mirage.CartSynthesizer)().fit(insurance)
    spec = spec_from_model(model, rows=len(insurance))
    regenerated = generate(spec_from_dict(spec), seed=1)
    assert isinstance(regenerated, pd.DataFrame)
    own = quality(insurance, model.sample(len(insurance), seed=1), model.schema_)
    assert quality(insurance, regenerated, model.schema_) >= own - 0.05
    table = spec["tables"]["table"]
    assert table["copula"]["columns"] and table["columns"]["children"]["kind"] == "numeric"


def test_statistics_are_coarsened(insurance: pd.DataFrame) -> None:
    frame = insurance.copy()
    frame.loc[:4, "region"] = "atlantis"  # 5 of 1338 rows: under the 1% share
    model = mirage.CopulaSynthesizer().fit(frame)
    spec = spec_from_model(model, rows=100)
    columns = spec["tables"]["table"]["columns"]
    assert "atlantis" not in columns["region"]["distribution"]["weights"]
    charges = columns["charges"]["distribution"]
    assert len(charges["quantiles"]) == len(QUANTILES) < 30
    assert all(float(f"{q:.4g}") == q for q in charges["quantiles"])  # 4 significant digits
    assert charges["quantiles"][-1] < frame["charges"].max()  # the extremes are cut
    assert all(round(w, 3) == w for w in columns["sex"]["distribution"]["weights"].values())
    assert spec["tables"]["table"]["rows"] == 100


def test_only_copula_and_cart_models_export() -> None:
    with pytest.raises(OptionError, match="copula or cart"):
        spec_from_model(object())


def test_spec_from_a_database_schema_generates_with_valid_keys() -> None:
    from tests.databases import northwind_schema

    spec = spec_from_dict(spec_from_schema(northwind_schema(), rows=30))
    frames = generate(spec, seed=1)
    assert isinstance(frames, dict) and set(frames) == {"customers", "orders", "products", "order_details"}
    assert spec.database.integrity_problems(frames) == []


def test_write_spec_round_trips_yaml_and_json(tmp_path: Path, insurance: pd.DataFrame) -> None:
    spec = spec_from_schema(mirage.infer_schema(insurance), rows=10)
    for name in ("s.yaml", "s.json"):
        write_spec(spec, tmp_path / name)
        assert len(generate(load_spec(tmp_path / name), seed=1)) == 10
    with pytest.raises(Exception, match="pass force=True"):
        write_spec(spec, tmp_path / "s.yaml")


def test_spec_command_from_a_model_and_from_a_schema(tmp_path: Path) -> None:
    data = shared_csv("insurance.csv")
    model = tmp_path / "insurance.mirage"
    assert invoke("fit", data, "-o", model, "--engine", "copula").exit_code == 0
    out = tmp_path / "insurance.spec.yaml"
    result = invoke("spec", model, "-o", out, "-n", 500)
    assert result.exit_code == 0, result.output
    assert "no training rows read" in result.stdout
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["tables"]["insurance"]["rows"] == 500
    assert invoke("generate", out, "-o", tmp_path / "regenerated.csv", "--seed", 1).exit_code == 0
    assert len(pd.read_csv(tmp_path / "regenerated.csv")) == 500
    schema = tmp_path / "insurance.schema.json"
    schema.write_text(mirage.infer_schema(pd.read_csv(data)).to_json(), encoding="utf-8")
    result = invoke("spec", "--from-schema", schema, "-o", tmp_path / "start.spec.json")
    assert result.exit_code == 0, result.output
    assert load_spec(tmp_path / "start.spec.json").single
    assert "one of them" in error_line(invoke("spec", "-o", tmp_path / "x.yaml"))
    assert "pass --force" in error_line(invoke("spec", model, "-o", out))
    assert ".yaml, .yml or .json" in error_line(invoke("spec", model, "-o", tmp_path / "x.txt"))


def test_durations_are_exported_as_their_seconds() -> None:
    """A spec has no durations: a duration column becomes its seconds, said in its description (not the
    microseconds a timedelta64[us] holds)."""
    import numpy as np

    rng = np.random.default_rng(0)
    minutes = rng.gamma(4.0, 40.0, 400).round()
    frame = pd.DataFrame({"duration": pd.to_timedelta(minutes, unit="min"), "stops": rng.integers(0, 3, 400)})
    spec = spec_from_model(mirage.fit(frame, engine="copula", seed=0), rows=400)
    column = spec["tables"][next(iter(spec["tables"]))]["columns"]["duration"]
    assert column["description"] == "a duration, in seconds"
    quantiles = column["distribution"]["quantiles"]
    assert 0.5 * 60 * minutes.min() <= quantiles[0] and quantiles[-1] <= 2 * 60 * minutes.max()


def test_numbered_keys_are_exported_from_the_number_the_model_writes_them() -> None:
    """19-digit ids came back from a spec as 1, 2, 3: the spec now says where the numbers start."""
    import numpy as np

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "order_id": rng.integers(10**18, 9 * 10**18, 300, dtype=np.int64),
            "sku": [f"SKU-{i:06d}" for i in rng.permutation(np.arange(1000, 1300))],
            "amount": rng.normal(50, 10, 300).round(2),
        }
    )
    model = mirage.fit(frame, engine="cart", seed=0)
    spec = spec_from_model(model, rows=50)
    columns = spec["tables"][next(iter(spec["tables"]))]["columns"]
    drawn = model.sample(50, seed=0)
    assert columns["order_id"] == {"pattern": "{:d}", "start": int(drawn["order_id"].min())}
    assert columns["sku"] == {"pattern": "SKU-{:06d}", "start": 1000}
    generated = generate(spec_from_dict(spec), seed=1)
    assert isinstance(generated, pd.DataFrame)
    assert generated["order_id"].astype(str).str.len().eq(19).all() and generated["order_id"].is_unique
    assert generated["sku"].iloc[0] == "SKU-001000"


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"pattern": "C-{:04d}", "start": -1}, "start: expected a whole number from 0"),
        ({"pattern": "C-{:04d}", "start": "10"}, "start: expected a whole number from 0"),
        ({"pattern": "uuid", "start": 10}, "start: the first number of a numbered pattern"),
    ],
)
def test_a_bad_start_names_its_path(column: dict[str, object], message: str) -> None:
    from mirage.errors import SchemaError

    with pytest.raises(SchemaError, match=f"tables.t.columns.k.{message}"):
        spec_from_dict({"tables": {"t": {"rows": 5, "columns": {"k": column}}}})


def test_a_models_date_formats_currencies_and_units_are_kept_in_its_spec(tmp_path: Path) -> None:
    """A spec exported from a model of dd/mm/yyyy dates, dollar amounts and weights in kg generates
    them written so (they came back as ISO dates and plain numbers)."""
    lines = ["day,price,weight"] + [
        f'{1 + i % 28:02d}/{1 + i % 12:02d}/2024,"${1000 + 37.25 * i:,.2f}",{40 + (i * 7) % 80:.1f} kg'
        for i in range(200)
    ]
    source = tmp_path / "source.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = mirage.fit(mirage.io.read_table(source), engine="cart", seed=0)
    spec = spec_from_model(model, rows=20)
    columns = spec["tables"]["table"]["columns"]
    assert columns["day"]["format"] == "%d/%m/%Y"
    assert columns["price"]["format"] == "${:,.2f}" and columns["weight"]["format"] == "{:.1f} kg"
    path = write_spec(spec, tmp_path / "s.yaml")
    out = tmp_path / "out.csv"
    result = invoke("generate", path, "-o", out, "--seed", "1")
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str)
    assert written["day"].str.fullmatch(r"\d\d/\d\d/2024").all()
    assert written["price"].str.fullmatch(r"\$\d,\d{3}\.\d\d").all()
    assert written["weight"].str.fullmatch(r"\d+\.\d kg").all()


def test_a_models_parentheses_plus_signs_and_trimmed_decimals_are_kept_in_its_spec(tmp_path: Path) -> None:
    """Accountants' negatives, plus signs and trimmed decimals came back from a spec as plain numbers."""
    lines = ["balance,change,discount"] + [
        f'"{f"({37.25 * i:,.2f})" if i % 3 == 0 else f"{1000 + 37.25 * i:,.2f}"}",'
        f"{f'+{i % 7}' if i % 7 else '0'},{[5, 12.5, 7.5, 20][i % 4]:g}%"
        for i in range(1, 201)
    ]
    source = tmp_path / "source.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = mirage.fit(mirage.io.read_table(source), engine="cart", seed=0)
    columns = spec_from_model(model, rows=60)["tables"]["table"]["columns"]
    assert columns["balance"]["format"] == {"number": "{:,.2f}", "negative": "parentheses"}
    assert columns["change"]["format"] == {"plus": "positive"}
    assert columns["discount"]["format"] == {"number": "{:.1f}%", "trimmed": True}
    path = write_spec(spec_from_model(model, rows=60), tmp_path / "s.yaml")
    out = tmp_path / "out.csv"
    result = invoke("generate", path, "-o", out, "--seed", "1")
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert written["balance"].str.fullmatch(r"\((?:\d{1,3},)?\d{1,3}\.\d\d\)|(?:\d,)?\d{1,3}\.\d\d").all()
    assert written["balance"].str.startswith("(").any() and not written["balance"].str.startswith("-").any()
    assert (
        written["change"].str.fullmatch(r"\+[1-9]\d*|0|-\d+").all()
        and written["change"].str.startswith("+").any()
    )
    assert written["discount"].str.fullmatch(r"\d+(?:\.\d*[1-9])?%").all()
