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


def test_the_augmented_table_is_written_as_the_real_file_was(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    real = pd.DataFrame(
        {
            "amount": np.round(rng.gamma(2.0, 40.0, 300), 2),
            "churned": rng.choice(["yes", "no"], 300, p=[0.2, 0.8]),
        }
    )
    source = tmp_path / "eu.csv"
    real.to_csv(source, sep=";", decimal=",", index=False)
    model, out = tmp_path / "eu.mirage", tmp_path / "aug.csv"
    assert invoke("fit", source, "-o", model, "--engine", "cart").exit_code == 0
    result = invoke(
        "augment", source, "-m", model, "--target", "churned", "--minority-share", 0.4, "-o", out, "--seed", 1
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "amount;churned;_synthetic"
    assert lines[1:301] == [f"{line};False" for line in source.read_text(encoding="utf-8").splitlines()[1:]]
    assert all("." not in line.split(";")[0] for line in lines[301:])
