"""argn with a privacy budget: private preprocessing, DP-SGD charged on the model's ledger."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.errors import DataError, OptionError
from mirage.model_file import load_model, read_manifest
from mirage.privacy import RDP_ORDERS, Ledger, rdp_to_epsilon
from mirage.schema import Column, Kind, Schema
from tests.cli.helpers import invoke

pytest.importorskip("torch")
pytest.importorskip("opacus")
pytest.importorskip("opendp")

from mirage.engines.argn import ArgnSynthesizer


def table(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], size=rows, p=[0.5, 0.3, 0.2])
    size = rng.normal(10, 3, size=rows).round(2)
    return pd.DataFrame({"colour": colour, "size": size})


@pytest.fixture(scope="module")
def fitted() -> ArgnSynthesizer:
    return ArgnSynthesizer(epsilon=8.0, max_epochs=1, seed=0).fit(table())


def test_every_step_that_read_the_rows_is_on_the_ledger_and_it_adds_up(fitted: ArgnSynthesizer) -> None:
    ledger = fitted.ledger_
    whats = [e.what for e in ledger.entries]
    assert whats[0] == "row count"
    assert "categories of colour" in whats and "range of size" in whats
    assert whats[-1].startswith("DP-SGD: ") and ledger.entries[-1].mechanism == "dp-sgd"
    assert all(not e.rdp for e in ledger.entries[:-1]) and len(ledger.entries[-1].rdp) == len(RDP_ORDERS)
    rho = sum(e.rho for e in ledger.entries)
    total = [rho * a + r for a, r in zip(RDP_ORDERS, ledger.entries[-1].rdp, strict=True)]
    assert ledger.epsilon_spent == pytest.approx(rdp_to_epsilon(total, ledger.delta / 2), rel=1e-12)
    # DP-SGD takes what the preprocessing left: the whole budget is used, never more
    assert 7.9 <= ledger.epsilon_spent <= 8.0
    assert fitted.training_["stopped"] == "dp_steps"


def test_the_model_samples_reproducibly_from_its_seed(fitted: ArgnSynthesizer) -> None:
    a, b = fitted.sample(200, seed=3), fitted.sample(200, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["colour", "size"]
    assert set(a["colour"].dropna()) <= {"red", "green", "blue", "_RARE_"} | set(a["colour"].dropna())


def test_the_model_file_keeps_the_ledger_and_no_exact_bound(fitted: ArgnSynthesizer, tmp_path: Path) -> None:
    path = tmp_path / "m.mirage"
    fitted.save(path)
    manifest = read_manifest(path)
    ledger = Ledger.from_dict(manifest["state"]["engine"]["ledger"])
    assert ledger == fitted.ledger_
    loaded = load_model(path)
    pd.testing.assert_frame_equal(loaded.sample(50, seed=1), fitted.sample(50, seed=1))
    data = table()
    numbers = {float(x) for x in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", json.dumps(manifest))}
    assert float(data["size"].min()) not in numbers and float(data["size"].max()) not in numbers


def test_declared_domains_cost_nothing() -> None:
    schema = Schema(
        [
            Column("colour", Kind.CATEGORICAL, categories=["red", "green", "blue"]),
            Column("size", Kind.NUMERIC, minimum=0.0, maximum=25.0),
        ]
    )
    model = ArgnSynthesizer(epsilon=3.0, max_epochs=1, seed=0).fit(table(), schema)
    assert model.ledger_.entries[0].what == "row count"
    assert len(model.ledger_.entries) == 2 and model.measured_columns_ == []


def test_refusals_name_the_option() -> None:
    with pytest.raises(OptionError, match="max_dcr_share .* with epsilon"):
        ArgnSynthesizer(epsilon=8.0, max_dcr_share=0.53, max_epochs=1).fit(table(200))
    context = pd.DataFrame({"region": ["a", "b"] * 100})
    with pytest.raises(OptionError, match="argn with epsilon cannot learn a context"):
        ArgnSynthesizer(epsilon=8.0, max_epochs=1).fit(table(200), context=context)
    with pytest.raises(DataError, match="'size': too few rows to estimate its range privately.*declare"):
        ArgnSynthesizer(epsilon=0.01, max_epochs=1).fit(table(100))


def test_mirage_fit_with_engine_argn_and_epsilon_trains_with_dp_sgd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    table(400).to_csv("t.csv", index=False)
    fitted = invoke(
        "fit", "t.csv", "-o", "t.mirage", "--engine", "argn", "--epsilon", "8", "--param", "max_epochs=1"
    )
    assert fitted.exit_code == 0, fitted.output
    shown = invoke("budget", "t.mirage")
    assert shown.exit_code == 0
    assert "DP-SGD" in shown.output and "spent of 8" in shown.output


@pytest.mark.slow
def test_a_few_hundred_rows_fit_at_epsilon_one_with_ranges_on_powers_of_two() -> None:
    """Before: 'too few rows to estimate its range privately' (argn's domains are dp's)."""
    from tests.engines.test_dp import small_measurements

    model = ArgnSynthesizer(epsilon=1.0, max_epochs=1, seed=0).fit(small_measurements())
    measured = [e.what for e in model.ledger_.entries]
    assert "range of insulin" in measured and model.ledger_.epsilon_spent <= 1.0 * (1 + 1e-9)
    assert model.sample(50, seed=0).notna().all().all()
