"""``mirage fit`` and ``mirage info``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mirage.cli._options import parse_params
from mirage.errors import OptionError
from tests.cli.helpers import error_line, invoke, manifest


@pytest.fixture
def malformed_csv(tmp_path: Path) -> Path:
    path = tmp_path / "broken.csv"
    path.write_text('a,b\n1,2\n3,"unterminated\n', encoding="utf-8")
    return path


def _fail(*args: Any) -> str:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    return error_line(result)


def test_missing_input_file(tmp_path: Path) -> None:
    line = _fail("fit", tmp_path / "missing.csv", "-o", tmp_path / "m.mirage")
    assert "missing.csv" in line
    assert not (tmp_path / "m.mirage").exists()


def test_malformed_csv(malformed_csv: Path, tmp_path: Path) -> None:
    assert "broken.csv" in _fail("fit", malformed_csv, "-o", tmp_path / "m.mirage")


def test_unknown_engine(data_csv: Path, tmp_path: Path) -> None:
    line = _fail("fit", data_csv, "-o", tmp_path / "m.mirage", "--engine", "gan9000")
    assert "--engine" in line and "gan9000" in line and "cart" in line


@pytest.mark.parametrize("engine", ["cart", "copula", "auto"])
def test_unknown_param_names_the_option_and_lists_valid_ones(
    data_csv: Path, tmp_path: Path, engine: str
) -> None:
    line = _fail("fit", data_csv, "-o", tmp_path / "m.mirage", "--engine", engine, "--param", "depth=3")
    assert "--param depth" in line and "valid:" in line and "rare_min_count" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--param", "no_equals_sign"], "key=value"),
        (["--holdout", "1.5"], "--holdout"),
        (["--seed", "1", "--param", "seed=2"], "--seed"),
        (["--schema", "no-such-schema.json"], "no-such-schema.json"),
    ],
)
def test_bad_options(data_csv: Path, tmp_path: Path, args: list[str], expected: str) -> None:
    assert expected in _fail("fit", data_csv, "-o", tmp_path / "m.mirage", *args)


def test_refuses_an_existing_output_before_fitting(
    data_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "m.mirage"
    out.write_text("precious", encoding="utf-8")

    def no_fitting(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("fit must not start")

    monkeypatch.setattr("mirage.fit", no_fitting)
    line = _fail("fit", data_csv, "-o", out)
    assert str(out) in line and "--force" in line
    assert out.read_text(encoding="utf-8") == "precious"


def test_force_overwrites(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.mirage"
    out.write_text("old", encoding="utf-8")
    result = invoke("fit", data_csv, "-o", out, "--engine", "copula", "--force")
    assert result.exit_code == 0, result.output
    assert manifest(out)["engine"] == "copula"


def test_reports_the_auto_choice_and_a_summary(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.mirage"
    result = invoke("fit", data_csv, "-o", out)
    assert result.exit_code == 0, result.output
    assert "picked by auto" in result.stderr and "1,500 rows" in result.stderr
    for word in ("rows", "columns", "engine", "seconds", str(out)):
        assert word in result.stdout
    picked = manifest(out)["engine"]
    assert picked in ("bayesnet", "gmm") and f"engine {picked}, picked by auto" in result.stderr
    info = invoke("info", out)
    assert info.exit_code == 0, info.output
    assert "picked by auto; detection AUC bayesnet" in " ".join(info.stdout.split())


def test_auto_checks_a_param_against_every_engine_it_may_fit(data_csv: Path, tmp_path: Path) -> None:
    result = invoke("fit", data_csv, "-o", tmp_path / "m.mirage", "--param", "max_components=3")
    assert result.exit_code != 0
    assert "max_components" in result.output and "bayesnet" in result.output
    assert not (tmp_path / "m.mirage").exists()


def test_params_and_seed_reach_the_engine(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.mirage"
    options = ["--engine", "copula", "--seed", "5", "-p", "shrinkage=0.1", "--param", "quantiles=200"]
    result = invoke("fit", data_csv, "-o", out, *options)
    assert result.exit_code == 0, result.output
    params = manifest(out)["hyperparameters"]
    assert params["seed"] == 5 and params["shrinkage"] == 0.1 and params["quantiles"] == 200


def test_parse_params_reads_json_values_else_strings() -> None:
    parsed = parse_params(["a=1", "b=0.5", "c=null", "d=true", "e=hello", 'f="7"', "g=[1, 2]", "h="])
    assert parsed == {"a": 1, "b": 0.5, "c": None, "d": True, "e": "hello", "f": "7", "g": [1, 2], "h": ""}
    with pytest.raises(OptionError, match="key=value"):
        parse_params(["=3"])
    assert parse_params(["quantiles=None", "smoothing=none"]) == {"quantiles": None, "smoothing": None}


def test_holdout_is_recorded_and_shown_by_info(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.mirage"
    result = invoke("fit", data_csv, "-o", out, "--holdout", "0.2", "--split-seed", "3")
    assert result.exit_code == 0, result.output
    training = manifest(out)["state"]["training"]
    assert training["holdout_fraction"] == 0.2 and training["split_seed"] == 3
    assert training["source"] == str(data_csv.resolve())
    assert manifest(out)["state"]["n_training_rows"] == 1200

    info = invoke("info", out)
    assert info.exit_code == 0, info.output
    assert "20% of 1,500 rows kept aside, split seed 3" in info.stdout
    assert str(data_csv.resolve()) in info.stdout
    assert "1,200" in info.stdout


def test_info_shows_engine_hyperparameters_and_columns(model_path: Path) -> None:
    result = invoke("info", model_path)
    assert result.exit_code == 0, result.output
    for text in ("engine", "cart", "min_samples_leaf=None", "education_num", "categorical", "none (fitted"):
        assert text in result.stdout


def test_info_on_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mirage"
    fake.write_text("hello", encoding="utf-8")
    result = invoke("info", fake)
    assert result.exit_code == 2
    assert "fake.mirage" in error_line(result)


def test_data_warnings_are_one_line_each_naming_the_column(tmp_path: Path) -> None:
    data = tmp_path / "towns.csv"
    rows = [f"town {k},{k % 7}" for k in range(0, 3_000, 2)]
    data.write_text("city,v\n" + "\n".join(rows * 2) + "\n", encoding="utf-8")
    result = invoke("fit", data, "-o", tmp_path / "m.mirage", "--engine", "copula")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "column 'city'" in warnings[0], result.stderr
    assert "_inference.py" not in result.stderr


def test_auto_says_each_data_warning_once_though_it_fits_two_engines(tmp_path: Path) -> None:
    data = tmp_path / "towns.csv"
    rows = [f"town {k},{k % 7}" for k in range(0, 3_000, 2)]
    data.write_text("city,v\n" + "\n".join(rows * 2) + "\n", encoding="utf-8")
    result = invoke("fit", data, "-o", tmp_path / "m.mirage")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "column 'city'" in warnings[0], result.stderr


def test_a_holdout_that_leaves_too_few_rows_is_refused(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.mirage"
    line = _fail("fit", data_csv, "-o", out, "--holdout", "0.999")
    assert "1,498 of 1,500 rows aside" in line and "leaves 2 to learn from" in line
    assert "at least 10 rows" in line
    assert not out.exists()


def test_fit_speaks_of_the_rows_it_learns_from(data_csv: Path, tmp_path: Path) -> None:
    result = invoke("fit", data_csv, "-o", tmp_path / "m.mirage", "--holdout", "0.5")
    assert result.exit_code == 0, result.output
    assert "picked by auto: 750 rows" in result.output and "1,500 rows" not in result.output
    assert "750 rows kept aside" in result.stdout


def test_info_names_the_parts_edited_by_hand(model_path: Path, tmp_path: Path) -> None:
    from tests.model_files import edit_manifest

    untouched = invoke("info", model_path).stdout.splitlines()
    assert next(line for line in untouched if line.startswith("edited by hand")).split()[-1] == "no"
    edited = edit_manifest(
        model_path, tmp_path / "edited.mirage", lambda doc: doc["hyperparameters"].update(smoothing=0.5)
    )
    result = invoke("info", edited)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("edited by hand"))
    assert "hyperparameters" in line


def test_the_privacy_check_is_shown_by_fit_and_info(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.mirage"
    result = invoke("fit", data_csv, "-o", out, "--engine", "cart", "--param", "max_dcr_share=0.53")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("privacy check"))
    assert "min_samples_leaf=" in line and "(fitted DCR share 0." in line and "limit 0.53" in line
    info = " ".join(invoke("info", out).stdout.split())
    assert "privacy check min_samples_leaf=50: DCR share 0." in info and "limit 0.53" in info


def test_the_privacy_check_is_asked_for_with_a_param_and_shown_by_info(
    data_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.mirage"
    result = invoke("fit", data_csv, "-o", out, "--engine", "cart", "--param", "max_dcr_share=0.9")
    assert result.exit_code == 0, result.output
    info = invoke("info", out)
    assert info.exit_code == 0, info.output
    line = " ".join(info.stdout.split())
    assert "privacy check min_samples_leaf=50: DCR share 0." in line
    assert "(kept min_samples_leaf=50, fitted 0." in line and "; limit 0.9, 5 folds)" in line
