"""``mirage augment``: real rows plus flagged synthetic minority rows, the share as asked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.cli.helpers import error_line, invoke


def test_tops_up_the_rarest_class(model_path: Path, data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "augmented.csv"
    result = invoke(
        "augment", data_csv, "--model", model_path, "--target", "income", "--minority-share", 0.4,
        "-o", out, "--seed", 1,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    real, frame = pd.read_csv(data_csv), pd.read_csv(out)
    assert list(frame.columns) == [*real.columns, "_synthetic"]
    pd.testing.assert_frame_equal(frame.iloc[: len(real)].drop(columns="_synthetic"), real)
    assert not frame["_synthetic"].iloc[: len(real)].any() and frame["_synthetic"].iloc[len(real) :].all()
    assert frame.loc[frame["_synthetic"], "income"].eq(">50K").all()
    assert abs(frame["income"].eq(">50K").mean() - 0.4) <= 0.5 / len(frame)
    assert "synthetic rows of income = >50K" in result.stdout


def test_names_the_class_and_the_flag(model_path: Path, data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "augmented.csv"
    result = invoke(
        "augment", data_csv, "-m", model_path, "--target", "sex", "--minority", "Female",
        "--minority-share", 0.5, "--flag", "made_up", "-o", out, "--seed", 2,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert frame.loc[frame["made_up"], "sex"].eq("Female").all()
    assert abs(frame["sex"].eq("Female").mean() - 0.5) <= 0.5 / len(frame)


def test_bad_input_is_named(model_path: Path, data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    base = ["augment", data_csv, "-m", model_path, "-o", out]
    cases = [
        (["--target", "income", "--minority-share", 1.5], "minority_share must be between 0 and 1"),
        (["--target", "age", "--minority-share", 0.3], "column 'age' is numeric"),
        (["--target", "income", "--minority", "rich", "--minority-share", 0.3], "no value 'rich'"),
        (["--target", "income", "--minority", "<=50K", "--minority-share", 0.3], "nothing to add"),
    ]
    for flags, message in cases:
        result = invoke(*base, *flags)
        assert result.exit_code == 2, (flags, result.output)
        assert message in error_line(result)
        assert not out.exists()
