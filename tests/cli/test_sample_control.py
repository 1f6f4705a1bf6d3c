"""``mirage sample --where / --rebalance / --fair``; the --where grammar (typed conditions, never eval)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mirage.control import parse_where
from mirage.engines import ENGINES, Between, IsNull, NotNull, OneOf, Synthesizer
from mirage.errors import OptionError
from tests.cli.helpers import error_line, invoke


@pytest.fixture(scope="module")
def adult_model(adult: pd.DataFrame) -> Synthesizer:
    return ENGINES["cart"]().fit(adult.head(1500))


def test_the_grammar_gives_typed_conditions(adult_model: Synthesizer) -> None:
    cases = {
        "income == '>50K' and age >= 30": {"income": OneOf([">50K"]), "age": Between(low=30)},
        "age between 20 and 30 and sex in [Male]": {"age": Between(20, 30), "sex": OneOf(["Male"])},
        "age >= 20 AND age <= 3e1": {"age": Between(20, 30.0)},
        "sex != Male": {"sex": OneOf(["Female"])},
        "workclass is null and `occupation` IS NOT NULL": {"workclass": IsNull(), "occupation": NotNull()},
        'education_num == 13 and race in ["White", "Black"]': {
            "education_num": OneOf([13]),
            "race": OneOf(["White", "Black"]),
        },
    }
    for text, expected in cases.items():
        assert parse_where(text, adult_model) == expected, text
    strict = parse_where("age > 30 and age < 40", adult_model)["age"]
    assert isinstance(strict, Between) and 30 < strict.low < 30.000001 and 39.99999 < strict.high < 40


def test_bad_text_names_the_token(adult_model: Synthesizer) -> None:
    cases = {
        "age >= thirty": "at 'thirty': column 'age' is numeric: expected a number",
        "age >>= 3": "at '>=': expected a value",
        "sex == Male or age > 3": "at 'or': expected 'and' between conditions",
        "nope == 1": "at 'nope': unknown column 'nope'",
        "age": "at the end: expected an operator",
        "sex in [Male, ": "at the end: expected a value",
        "sex > 3": "at '>': > needs a numeric or datetime column, and 'sex' is categorical",
        "age != 3": "at '3': != needs a categorical or boolean column",
        "sex == Male and sex == Female": "at '==': the conditions on column 'sex' leave no value",
        "age >= 3 and sex in [Male]]": "at ']': expected 'and' between conditions",
        "__import__('os') == 1": "at '__import__(': unknown column '__import__('",
    }
    for text, message in cases.items():
        with pytest.raises(OptionError) as info:
            parse_where(text, adult_model)
        assert str(info.value).startswith(f"where {text!r}, {message}"), str(info.value)


def test_where_holds_in_every_row(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "where.csv"
    text = "income == '>50K' and age >= 30 and sex != Male"
    result = invoke("sample", model_path, "-n", 300, "--where", text, "-o", out, "--seed", 1)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 300
    assert frame["income"].eq(">50K").all() and (frame["age"] >= 30).all() and frame["sex"].eq("Female").all()


def test_rebalance_and_fair_give_exact_counts(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "balanced.csv"
    result = invoke(
        "sample", model_path, "-n", 1000, "--rebalance", "income:>50K=0.5", "--rebalance", "sex:Female=0.3",
        "-o", out, "--seed", 2,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert frame["income"].eq(">50K").sum() == 500 and frame["sex"].eq("Female").sum() == 300
    fair = tmp_path / "fair.csv"
    result = invoke("sample", model_path, "-n", 1000, "--fair", "income:sex", "-o", fair, "--seed", 3)
    assert result.exit_code == 0, result.output
    rates = pd.read_csv(fair).groupby("sex")["income"].apply(lambda s: s.eq(">50K").mean())
    assert abs(rates["Female"] - rates["Male"]) < 0.01
    shown = invoke("sample", model_path, "-n", 20, "--where", "sex == Female", "--seed", 4)
    assert shown.exit_code == 0 and "Female" in shown.stdout and " Male " not in shown.stdout


def test_bad_flags_are_named(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    cases = [
        (["--rebalance", "income>50K=0.5"], "--rebalance 'income>50K=0.5': expected COLUMN:VALUE=SHARE"),
        (["--rebalance", "income:"], "quote it, a > outside quotes redirects the output in a shell"),
        (
            ["--rebalance", "income:>50K=half"],
            "--rebalance 'income:>50K=half': the share 'half' is not a number",
        ),
        (
            ["--rebalance", "income:rich=0.5"],
            "--rebalance: rebalance['income']: column 'income' has no value 'rich'",
        ),
        (
            ["--rebalance", "income:>50K=0.8", "--rebalance", "income:<=50K=0.8"],
            "the shares add up to 1.6, over 1",
        ),
        (["--rebalance", "age:30=0.5"], "column 'age' is numeric"),
        (["--fair", "income"], "--fair 'income': expected OUTCOME:PROTECTED"),
        (["--fair", "income:age"], "--fair: fair['protected']: column 'age' is numeric"),
        (["--where", "age >= x"], "--where: where 'age >= x', at 'x': column 'age' is numeric"),
        (
            ["--fair", "income:sex", "--rebalance", "sex:Male=0.5"],
            "--rebalance and --fair cannot be combined",
        ),
    ]
    for flags, message in cases:
        result = invoke("sample", model_path, "-n", 10, "-o", out, *flags)
        assert result.exit_code == 2, (flags, result.output)
        assert message in error_line(result), (flags, error_line(result))
        assert not out.exists()


def test_rebalance_by_range_and_fair_on_two_columns(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "ranges.csv"
    result = invoke("sample", model_path, "-n", 400, "--rebalance", "age:18..30=0.5", "-o", out, "--seed", 5)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["age"].between(18, 30).sum() == 200
    fair = tmp_path / "fair2.csv"
    result = invoke("sample", model_path, "-n", 800, "--fair", "income:sex,race", "-o", fair, "--seed", 6)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(fair)
    rates = frame.groupby("sex")["income"].apply(lambda s: s.eq(">50K").mean())
    assert abs(rates["Female"] - rates["Male"]) < 0.02
    bad = invoke("sample", model_path, "-n", 10, "-o", tmp_path / "x.csv", "--fair", "income:sex,")
    assert bad.exit_code == 2 and "expected OUTCOME:PROTECTED" in error_line(bad)


def test_durations_take_conditions_as_durations(tmp_path: Path) -> None:
    """A duration column (read from ``2h 50m`` text or held as timedeltas) takes bounds written as
    durations or seconds, in --where and in conditions=; other text is refused by name."""
    import numpy as np

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "duration": pd.to_timedelta(rng.gamma(4.0, 2_400.0, 400).round(), unit="s"),
            "stops": rng.integers(0, 3, 400),
        }
    )
    model = ENGINES["copula"](seed=0).fit(frame)
    parsed = parse_where("duration >= '2h 30m' and duration <= 4h", model)["duration"]
    assert parsed == Between(pd.Timedelta(hours=2, minutes=30), pd.Timedelta(hours=4))
    assert parse_where("duration between 5400 and 90min", model)["duration"] == Between(
        pd.Timedelta(minutes=90), pd.Timedelta(minutes=90)
    )
    drawn = model.sample(300, seed=1, conditions={"duration": Between(low="1 hr, 30 mins", high=7_200)})
    assert drawn["duration"].between(pd.Timedelta(minutes=90), pd.Timedelta(hours=2)).all()
    with pytest.raises(OptionError, match="column 'duration' holds durations: expected a duration"):
        parse_where("duration < soon", model)
    with pytest.raises(OptionError, match="a range bound must be a duration"):
        model.sample(10, seed=1, conditions={"duration": Between(low="soon")})


def test_where_reads_dates_as_the_column_writes_them(tmp_path: Path) -> None:
    """A CSV of day-first dates (``31.12.2023``): bounds in that format or year first select the same
    days, in the output file too; a date that reads two ways is refused by name."""
    import numpy as np

    rng = np.random.default_rng(5)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, 600), unit="D")
    frame = pd.DataFrame({"amount": rng.gamma(2.0, 40.0, 600).round(2), "booked": days.strftime("%d.%m.%Y")})
    source = tmp_path / "eu.csv"
    frame.to_csv(source, sep=";", decimal=",", index=False)
    model = tmp_path / "eu.mirage"
    assert invoke("fit", str(source), "-o", str(model), "--engine", "cart").exit_code == 0
    for where in (
        "booked >= '01.06.2023' and booked <= '31.08.2023'",
        "booked between 2023-06-01 and 2023-08-31",
    ):
        out = tmp_path / "out.csv"
        result = invoke(
            "sample", str(model), "-n", "400", "--seed", "2", "--where", where, "-o", str(out), "--force"
        )
        assert result.exit_code == 0, result.output
        booked = pd.to_datetime(pd.read_csv(out, sep=";", dtype=str)["booked"], format="%d.%m.%Y")
        assert booked.between("2023-06-01", "2023-08-31").all() and (booked.dt.day <= 12).mean() > 0.3
    result = invoke(
        "sample", str(model), "-n", "5", "--where", "booked >= '06/01/2023'", "-o", str(tmp_path / "x.csv")
    )
    assert result.exit_code != 0
    assert "reads as 2023-06-01 month first and 2023-01-06 day first" in error_line(result)
