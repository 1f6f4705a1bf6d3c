"""Holdout, rules and conditions on partitioned data: a holdout kept aside per partition (the same rows
whatever runs the tasks), rules learned by the sampled engines and refused by the copula with the option
named, conditions and scenarios drawn block by block on real worker processes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.control import Inequality
from mirage.engines import Between
from mirage.errors import OptionError
from mirage.scale import fit_partitions, held_out
from mirage.scale._partitions import split_partition
from mirage.schema import infer_schema
from tests.cli.helpers import invoke

distributed = pytest.importorskip("distributed")

SIZES = (300, 50, 7, 443)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = sum(SIZES)
    start = rng.integers(0, 100, n)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "start": start,
            "end": start + rng.integers(1, 30, n),
            "kind": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
        }
    )


@pytest.fixture(scope="module")
def pattern(rows: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("parts")
    bounds = np.cumsum((0, *SIZES))
    for i in range(len(SIZES)):
        rows.iloc[bounds[i] : bounds[i + 1]].to_parquet(out / f"p-{i}.parquet")
    return str(out / "p-*.parquet")


def test_a_partition_split_depends_on_its_index_and_rows_only(rows: pd.DataFrame) -> None:
    train, held = split_partition(2, rows, 0.25, seed=9)
    assert len(held) == round(0.25 * len(rows)) and len(train) + len(held) == len(rows)
    assert set(train["id"]).isdisjoint(held["id"])
    again, _ = split_partition(2, rows, 0.25, seed=9)
    pd.testing.assert_frame_equal(train, again)
    other, _ = split_partition(3, rows, 0.25, seed=9)
    assert not other.equals(train)


def test_the_holdout_is_never_learned_and_the_same_on_workers(
    pattern: str, rows: pd.DataFrame, cluster: object
) -> None:
    model = fit_partitions(pattern, holdout=0.2, split_seed=4)
    kept = held_out(pattern, 0.2, split_seed=4)
    assert len(kept) == sum(round(0.2 * n) for n in SIZES)
    assert model.n_training_rows_ == len(rows) - len(kept)
    assert model.training_["partitioned"]["holdout"] == {"fraction": 0.2, "split_seed": 4}
    with distributed.Client(cluster) as client:
        on_workers = held_out(pattern, 0.2, split_seed=4, client=client)
    pd.testing.assert_frame_equal(on_workers, kept)
    # the learned rows are the rest: the in-memory fit of exactly those rows is the same model
    learned = rows[~rows["id"].isin(kept["id"])]
    whole = mirage.fit(learned, engine="copula", schema=model.schema_)
    assert model.get_state()[0]["encoder"] == whole.get_state()[0]["encoder"]


def test_a_bad_holdout_is_named(pattern: str) -> None:
    with pytest.raises(OptionError, match="holdout must be a fraction strictly between 0 and 1"):
        fit_partitions(pattern, holdout=1.5)


def test_rules_are_learned_on_the_sample_and_hold_in_every_block(
    pattern: str, rows: pd.DataFrame, cluster: object, tmp_path: Path
) -> None:
    schema = infer_schema(rows)
    schema.rules.append(Inequality("end", ">=", "start"))
    with pytest.raises(OptionError, match="schema rules: the copula engine .* engine='cart'"):
        fit_partitions(pattern, schema=schema)
    model = fit_partitions(pattern, schema=schema, engine="cart", sample_rows=500)
    assert model.rules_ is not None
    with distributed.Client(cluster) as client:
        model.sample_to(tmp_path / "out", 3_000, seed=2, client=client)
    drawn = pd.read_parquet(tmp_path / "out")
    assert len(drawn) == 3_000 and (drawn["end"] >= drawn["start"]).all()


def test_conditions_and_scenarios_are_drawn_on_the_workers_as_sample_draws_them(
    pattern: str, cluster: object, tmp_path: Path
) -> None:
    model = fit_partitions(pattern)
    n = 3_000  # one block: that a file's blocks follow on is tested in test_sample_to.py
    conditions = {"kind": "b", "start": Between(10, 60)}
    with distributed.Client(cluster) as client:
        model.sample_to(tmp_path / "c", n, seed=1, conditions=conditions, client=client)
        scenario = {"shift": {"start": 5}}
        model.sample_to(tmp_path / "s", n, seed=1, scenario=scenario, client=client)
    conditioned = pd.read_parquet(tmp_path / "c")
    # the same values (Parquet reads text back as str where sample keeps the schema's object dtype)
    expected = model.sample(n, seed=1, conditions=conditions)
    pd.testing.assert_frame_equal(conditioned, expected, check_dtype=False)
    assert set(conditioned["kind"]) == {"b"} and conditioned["start"].between(10, 60).all()
    expected = model.sample(n, seed=1, scenario=scenario)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "s"), expected, check_dtype=False)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("rebalance", {"kind": {"a": 0.5}}, "sample_to: rebalance gives values exact shares"),
        ("fair", {"outcome": "kind", "protected": "start"}, "sample_to: fair rebalances"),
        ("context", pd.DataFrame({"x": [1]}), "sample_to: context draws one row per context row"),
        ("conditions", {"nope": 1}, "nope"),
    ],
)
def test_what_cannot_be_drawn_block_by_block_is_named(
    pattern: str, tmp_path: Path, option: str, value: object, message: str
) -> None:
    model = fit_partitions(pattern)
    with pytest.raises(OptionError, match=message):
        model.sample_to(tmp_path / "out", 10, **{option: value})
    assert not (tmp_path / "out").exists()


def test_the_cli_keeps_a_holdout_of_each_partition(pattern: str, rows: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "m.mirage"
    result = invoke("fit", pattern, "-o", out, "--engine", "copula", "--holdout", "0.25", "--split-seed", "3")
    assert result.exit_code == 0, result.output
    assert "0.25 of each partition kept aside (seed 3)" in result.output
    model = mirage.load(out)
    assert isinstance(model, mirage.Synthesizer)
    assert model.n_training_rows_ == len(rows) - len(held_out(pattern, 0.25, split_seed=3))
