"""The spec format: YAML and JSON, errors that name the spec path, the published JSON Schema."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import yaml

from mirage.errors import DataError, SchemaError
from mirage.spec import load_spec, spec_from_dict
from mirage.spec._spec import Spec

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "mirage" / "spec" / "spec.schema.json"
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "mirage" / "spec" / "examples").glob("*.spec.yaml"))

BASE: dict[str, Any] = {
    "spec_version": 1,
    "tables": {
        "people": {
            "rows": 100,
            "primary_key": "id",
            "columns": {
                "id": {"pattern": "P-{:05d}"},
                "age": {
                    "distribution": {"type": "normal", "mean": 40, "std": 12},
                    "min": 18,
                    "integer": True,
                },
                "income": {"distribution": {"type": "lognormal", "mu": 10, "sigma": 0.5}, "decimals": 2},
                "band": {"bins": {"column": "age", "edges": [0, 30, 200], "labels": ["young", "old"]}},
                "churn": {
                    "distribution": {
                        "type": "conditional",
                        "given": "band",
                        "cases": {
                            "young": {"type": "bernoulli", "p": 0.1},
                            "old": {"type": "bernoulli", "p": 0.02},
                        },
                    }
                },
                "monthly": {"formula": "income / 12"},
                "name": {"provider": "person_name"},
            },
            "copula": {"columns": ["age", "income"], "correlation": [[1, 0.4], [0.4, 1]]},
            "rules": [{"rule": "range", "column": "age", "low": 18, "high": 120}],
        }
    },
}


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def plain(data: Any) -> Any:
    """YAML's dates as the ISO text an editor's YAML support sees."""
    if isinstance(data, dict):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    if isinstance(data, (dt.date, dt.datetime)):
        return data.isoformat()
    return data


def edited(path: str, value: Any) -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = spec
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return spec


DELETE = object()


def test_base_spec_parses_and_validates() -> None:
    spec = spec_from_dict(BASE)
    assert isinstance(spec, Spec) and list(spec.tables) == ["people"]
    jsonschema.validate(BASE, schema())


def test_nulls_by_another_column_parse_and_validate() -> None:
    nulls = {"given": "band", "cases": {"young": 0.2}, "default": 0.05}
    conditional = edited("tables.people.columns.churn.nulls", nulls)
    jsonschema.validate(conditional, schema())
    column = spec_from_dict(conditional).tables["people"].columns["churn"]
    assert (column.null_given, column.null_cases, column.nulls) == ("band", {"young": 0.2}, 0.05)


def test_yaml_and_json_files_give_the_same_spec(tmp_path: Path) -> None:
    (tmp_path / "a.spec.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False), encoding="utf-8")
    (tmp_path / "a.spec.json").write_text(json.dumps(BASE), encoding="utf-8")
    from mirage.spec import generate

    a = generate(load_spec(tmp_path / "a.spec.yaml"), seed=1)
    b = generate(load_spec(tmp_path / "a.spec.json"), seed=1)
    assert a.equals(b)


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_shipped_examples_validate_against_the_schema_and_parse(example: Path) -> None:
    jsonschema.validate(plain(yaml.safe_load(example.read_text(encoding="utf-8"))), schema())
    load_spec(example)


# Structural mistakes both the JSON Schema (an editor) and the parser refuse, the parser naming the path.
REFUSED_BY_BOTH = [
    (
        "tables.people.columns.age.distribution.type",
        "gaussian",
        "tables.people.columns.age.distribution.type",
    ),
    ("tables.people.columns.age.colour", "red", "tables.people.columns.age.colour"),
    ("tables.people.columns.age.nulls", 1.5, "tables.people.columns.age.nulls"),
    ("tables.people.columns.age.nulls", {"cases": {"a": 0.1}}, "tables.people.columns.age.nulls"),
    ("tables.people.columns.age.distribution.std", DELETE, "tables.people.columns.age.distribution"),
    (
        "tables.people.per_parent",
        {"table": "x", "distribution": {"type": "poisson", "lam": 1}},
        "tables.people",
    ),
    ("tables.people.rows", -1, "tables.people.rows"),
    ("tables.people.copula.repair", "yes", "tables.people.copula.repair"),
    ("tables.people.rules", [{"rule": "inequality", "left": "age"}], "tables.people.rules[0]"),
    ("tables.people.columns.income.distribution.sigma", 0, "tables.people.columns.income.distribution.sigma"),
    (
        "tables.people.columns.monthly.distribution",
        {"type": "poisson", "lam": 1},
        "tables.people.columns.monthly",
    ),
    ("tables.people.columns.age.kind", "float", "tables.people.columns.age.kind"),
    ("spec_version", 2, "spec_version"),
]


@pytest.mark.parametrize(("path", "value", "named"), REFUSED_BY_BOTH, ids=[r[0] for r in REFUSED_BY_BOTH])
def test_parser_and_schema_agree_on_refusals(path: str, value: Any, named: str) -> None:
    bad = edited(path, value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema())
    with pytest.raises(SchemaError) as caught:
        spec_from_dict(bad)
    assert str(caught.value).startswith(named), str(caught.value)


# Mistakes only the parser can see (they need the other columns or arithmetic): it names the path.
REFUSED_BY_PARSER = [
    ("tables.people.columns.monthly.formula", "income ** 2", "tables.people.columns.monthly.formula"),
    ("tables.people.columns.monthly.formula", "salary / 12", "tables.people.columns.monthly.formula"),
    ("tables.people.copula.correlation", [[1, 0.4], [0.5, 1]], "tables.people.copula.correlation[0][1]"),
    ("tables.people.copula.columns", ["age", "monthly"], "tables.people.copula.columns[1]"),
    ("tables.people.rules", [{"rule": "range", "column": "wage", "low": 1}], "tables.people.rules"),
    (
        "tables.people.columns.churn.distribution.given",
        "age",
        "tables.people.columns.churn.distribution.given",
    ),
    ("tables.people.columns.name.provider", "no_such_provider", "tables.people.columns.name.provider.name"),
    ("tables.people.columns.band.bins.edges", [0, 50, 40], "tables.people.columns.band.bins.edges"),
]


@pytest.mark.parametrize(("path", "value", "named"), REFUSED_BY_PARSER, ids=[r[2] for r in REFUSED_BY_PARSER])
def test_parser_errors_name_the_spec_path(path: str, value: Any, named: str) -> None:
    with pytest.raises(SchemaError) as caught:
        spec_from_dict(edited(path, value))
    message = str(caught.value)
    assert message.startswith(named), message
    assert "\n" not in message


def test_formula_cycle_is_refused() -> None:
    spec = edited("tables.people.columns.monthly.formula", "yearly / 12")
    spec["tables"]["people"]["columns"]["yearly"] = {"formula": "monthly * 12"}
    with pytest.raises(SchemaError, match="cycle"):
        spec_from_dict(spec)


def test_conditional_without_a_case_for_a_value_is_refused() -> None:
    spec = edited(
        "tables.people.columns.churn.distribution.cases", {"young": {"type": "bernoulli", "p": 0.1}}
    )
    with pytest.raises(
        SchemaError, match=r"tables.people.columns.churn.distribution.cases: no case for 'old'"
    ):
        spec_from_dict(spec)


def test_correlation_not_positive_semidefinite_is_refused_or_repaired() -> None:
    spec = copy.deepcopy(BASE)
    people = spec["tables"]["people"]
    people["columns"]["x"] = {"distribution": {"type": "uniform", "low": 0, "high": 1}}
    matrix = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]
    people["copula"] = {"columns": ["age", "income", "x"], "correlation": matrix}
    with pytest.raises(
        SchemaError, match=r"tables.people.copula.correlation: not a correlation matrix .*repair"
    ):
        spec_from_dict(spec)
    people["copula"]["repair"] = True
    copula = spec_from_dict(spec).tables["people"].copula
    assert copula is not None and copula.repaired
    fixed = copula.correlation
    assert np.allclose(np.diag(fixed), 1) and np.linalg.eigvalsh(fixed).min() > -1e-9
    assert np.allclose(fixed, fixed.T)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.spec.yaml"
    bad.write_text("tables: [1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.spec.yaml' is not valid YAML \(line"):
        load_spec(bad)
    wrong = tmp_path / "wrong.spec.yaml"
    wrong.write_text(yaml.safe_dump(edited("tables.people.rows", "many")), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"wrong.spec.yaml: tables.people.rows"):
        load_spec(wrong)


def test_readme_example_spec_parses_validates_and_generates() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Data from a spec") :]
    block = section[
        section.index("```yaml") + len("```yaml") : section.index("```", section.index("```yaml") + 7)
    ]
    data = yaml.safe_load(block)
    jsonschema.validate(plain(data), schema())
    data["tables"]["customers"]["rows"] = 200
    from mirage.spec import generate

    frames = generate(spec_from_dict(data), seed=1)
    assert isinstance(frames, dict) and (frames["orders"]["total"] >= frames["orders"]["price"]).all()


def _one_column(body: dict[str, Any]) -> dict[str, Any]:
    return {"spec_version": 1, "tables": {"t": {"rows": 5, "columns": {"c": body}}}}


def test_formats_say_how_dates_and_numbers_are_written() -> None:
    spec = spec_from_dict(
        {
            "spec_version": 1,
            "tables": {
                "t": {
                    "rows": 5,
                    "columns": {
                        "day": {
                            "kind": "datetime",
                            "distribution": {"type": "uniform", "low": "2024-01-01", "high": "2024-12-31"},
                            "format": "%d/%m/%Y",
                        },
                        "at": {
                            "kind": "datetime",
                            "distribution": {"type": "uniform", "low": "2024-01-01", "high": "2024-12-31"},
                            "format": "%d.%m.%Y %H:%M",
                        },
                        "price": {
                            "distribution": {"type": "uniform", "low": 1, "high": 9},
                            "format": "${:,.2f}",
                        },
                        "n": {"distribution": {"type": "uniform", "low": 1, "high": 9}, "format": "{:d} pcs"},
                    },
                }
            },
        }
    )
    columns = spec.tables["t"].columns
    assert columns["day"].date_only and not columns["at"].date_only
    assert columns["price"].number_text == {"prefix": "$", "suffix": "", "decimals": 2, "grouped": True}
    assert spec.tables["t"].schema.extra["csv"] == {
        "numbers": {
            "price": {"prefix": "$", "suffix": "", "decimals": 2, "grouped": True},
            "n": {"prefix": "", "suffix": " pcs", "decimals": 0, "grouped": False},
        },
        "dates": {"day": "%d/%m/%Y", "at": "%d.%m.%Y %H:%M"},
    }


def test_number_formats_carry_parentheses_plus_signs_and_trimmed_decimals() -> None:
    uniform = {"type": "uniform", "low": -9, "high": 9}
    raw = {
        "spec_version": 1,
        "tables": {
            "t": {
                "rows": 5,
                "columns": {
                    "balance": {
                        "distribution": uniform,
                        "format": {"number": "{:,.2f}", "negative": "parentheses"},
                    },
                    "change": {"distribution": uniform, "integer": True, "format": {"plus": "positive"}},
                    "rate": {"distribution": uniform, "format": {"number": "{:.2f}%", "trimmed": True}},
                },
            }
        },
    }
    jsonschema.validate(raw, schema())
    written = spec_from_dict(raw).tables["t"].schema.extra["csv"]
    assert written["numbers"] == {
        "balance": {"prefix": "", "suffix": "", "decimals": 2, "grouped": True, "negative": "parentheses"},
        "rate": {"prefix": "", "suffix": "%", "decimals": 2, "grouped": False, "trimmed": True},
    }
    assert written["signed"] == {"change": "positive"}


@pytest.mark.parametrize(
    ("style", "message"),
    [
        (
            {"number": "{:.2f}", "negative": "red"},
            r"format\.negative: 'minus' \(-1,200\.50\), 'parentheses' \(\(1,200\.50\)\) or 'minus sign'",
        ),
        ({"plus": "always"}, r"format\.plus: 'positive' \(\+3, 0\) or 'non-negative'"),
        ({"number": "{:.2f}", "trimmed": "yes"}, r"format\.trimmed: expected true or false"),
        ({"trimmed": True}, r"format\.number: missing"),
        ({"number": "{:.2f}", "colour": "red"}, r"format\.colour: unknown field"),
        ({"number": "{:.2}"}, r"format\.number: a number format such as"),
    ],
)
def test_a_bad_number_style_names_its_field(style: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=rf"tables\.t\.columns\.c\.{message}"):
        spec_from_dict(
            _one_column({"distribution": {"type": "uniform", "low": 1, "high": 9}, "format": style})
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "datetime", "format": "dd/mm/yyyy"}, "'date', 'datetime' or a strftime format"),
        ({"kind": "datetime", "format": "%Y-%m-%dT%H:%M%z"}, "have no UTC offset or zone; drop %z"),
        ({"format": "$ {:,.2}"}, r"a number format such as '\$\{:,.2f\}'"),
        ({"format": "{:.2f} {:.2f}"}, "a number format such as"),
        ({"kind": "categorical", "format": "{:d}"}, "a format applies to a datetime or numeric column"),
    ],
)
def test_a_bad_format_names_the_column(body: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=rf"tables\.t\.columns\.c\.format: .*{message}"):
        spec_from_dict(_one_column(body))
