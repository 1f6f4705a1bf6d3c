"""Fitting from partitioned data: the copula from per-partition statistics equals the in-memory fit;
engines that learn from rows fit on a uniform sample across partitions, recorded in the model."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.errors import DataError, OptionError
from mirage.scale import fit_partitions
from mirage.scale._reservoir import smallest_keys
from mirage.schema import Kind, Schema, infer_schema
from tests.cli.helpers import invoke
from tests.conftest import FIXTURES

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")

SIZES = (100, 2_700, 400, 800)  # unequal partitions, the 4,000 rows of the demo sample


@pytest.fixture(scope="module")
def folder(adult: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("partitions")
    bounds = np.cumsum((0, *SIZES))
    for i, (a, b) in enumerate(pairwise(bounds)):
        adult.iloc[a:b].to_parquet(out / f"part-{i}.parquet")
    return out


@pytest.fixture(scope="module")
def schema(adult: pd.DataFrame) -> Schema:
    return infer_schema(adult)


@pytest.fixture(scope="module")
def in_memory(adult: pd.DataFrame, schema: Schema) -> mirage.Synthesizer:
    return mirage.fit(adult, engine="copula", schema=schema)


def assert_same_copula(partitioned: mirage.Synthesizer, whole: mirage.Synthesizer) -> None:
    """Encoder and marginals equal exactly (merged counts are the whole column's); the correlation
    (so its Cholesky factor) within 1e-12, as the sums are added in another order."""
    state, arrays = partitioned.get_state()
    expected_state, expected = whole.get_state()
    assert state["encoder"] == expected_state["encoder"]
    assert state["engine"] == expected_state["engine"]
    assert state["n_training_rows"] == whole.n_training_rows_
    assert sorted(arrays) == sorted(expected)
    for name, values in expected.items():
        if name == "engine.cholesky":
            np.testing.assert_allclose(arrays[name], values, rtol=0, atol=1e-12)
        else:
            np.testing.assert_array_equal(arrays[name], values, err_msg=name)


def test_the_copula_from_files_here_equals_the_in_memory_fit(
    folder: Path, schema: Schema, in_memory: mirage.Synthesizer
) -> None:
    model = fit_partitions(str(folder / "*.parquet"), schema=schema)
    assert_same_copula(model, in_memory)
    assert model.training_["partitioned"] == {"partitions": 4, "rows_seen": 4_000}
    assert mirage.load(_saved(model, folder.parent / "m.mirage")).training_ == model.training_


def _saved(model: mirage.Synthesizer, path: Path) -> Path:
    model.save(path, force=True)
    return path


def test_mirage_fit_of_a_dask_dataframe_on_the_cluster(
    folder: Path, schema: Schema, in_memory: mirage.Synthesizer, cluster: object
) -> None:
    with distributed.Client(cluster):  # the default client: mirage.fit runs on it
        frame = dd.read_parquet(str(folder / "*.parquet"))
        model = mirage.fit(frame, engine="copula", schema=schema)
    assert_same_copula(model, in_memory)


def test_mirage_fit_cli_on_an_existing_cluster(
    folder: Path, in_memory: mirage.Synthesizer, cluster: object, tmp_path: Path
) -> None:
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    pattern = str(folder / "*.parquet")
    result = invoke("fit", pattern, "-o", tmp_path / "m.mirage", "--engine", "copula", "--cluster", address)
    assert result.exit_code == 0, result.output
    assert "4,000 in 4 partitions" in result.output
    model = mirage.load(tmp_path / "m.mirage")
    assert isinstance(model, mirage.Synthesizer)
    assert model.training_["partitioned"]["rows_seen"] == 4_000
    # the schema inferred from the first partition (100 rows) may differ from the whole's; the
    # correlation is still the same kind of statistic: compare its size
    assert model.get_state()[1]["engine.cholesky"].ndim == 2


def test_cart_fits_on_a_uniform_sample_and_says_so(folder: Path, schema: Schema) -> None:
    pattern = str(folder / "*.parquet")
    model = fit_partitions(pattern, engine="cart", schema=schema, sample_rows=500, sample_seed=4)
    record = model.training_["partitioned"]
    assert record == {"partitions": 4, "rows_seen": 4_000, "sample_rows": 500, "sample_seed": 4}
    assert model.n_training_rows_ == 500
    again = fit_partitions(pattern, engine="cart", schema=schema, sample_rows=500, sample_seed=4)
    pd.testing.assert_frame_equal(model.sample(50, seed=1), again.sample(50, seed=1))


def test_the_sample_is_uniform_whatever_the_partition_sizes() -> None:
    """Priority sampling: each row is kept with probability k / n, so a partition of 10 rows beside
    one of 990 gives about 10 * k / n of the k rows, not half of them."""
    small, large = pd.DataFrame({"x": np.arange(10.0)}), pd.DataFrame({"x": np.arange(990.0)})
    k, counts = 100, []
    for seed in range(200):
        keys = [smallest_keys(i, frame, sample=k, seed=seed)[1] for i, frame in enumerate((small, large))]
        threshold = np.sort(np.concatenate(keys))[k - 1]
        counts.append(int((keys[0] <= threshold).sum()))
    assert abs(np.mean(counts) - 1.0) < 0.3  # expected 10 * 100 / 1000 = 1 row per sample


def test_bad_partitioned_input_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no file matches"):
        fit_partitions(str(tmp_path / "*.parquet"))
    with pytest.raises(OptionError, match="sample_rows must be an integer >= 1"):
        fit_partitions(str(tmp_path / "*.parquet"), sample_rows=0)


def test_mirage_fit_of_a_dask_dataframe_without_a_cluster(
    adult: pd.DataFrame, schema: Schema, in_memory: mirage.Synthesizer
) -> None:
    frame = dd.from_pandas(adult, npartitions=3)  # no client: each partition computed here in turn
    assert_same_copula(mirage.fit(frame, engine="copula", schema=schema), in_memory)


def test_number_categories_learned_as_numbers_on_the_cluster_as_in_memory(
    cluster: object, tmp_path: Path
) -> None:
    """Reorder levels 0, 5, ..., 30 (7 to 24 of 77 rows each) are inferred categories; kept as such,
    their rare values fold into the few kept ones.  The partitioned copula learns them as numbers, as
    the in-memory fit does, from the merged counts."""
    products = pd.read_csv(FIXTURES / "northwind" / "products.csv")
    schema = infer_schema(products)
    assert schema["reorder_level"].kind is Kind.CATEGORICAL
    for i, rows in enumerate(np.array_split(np.arange(len(products)), 3)):
        products.iloc[rows].to_parquet(tmp_path / f"part-{i}.parquet")
    whole = mirage.fit(products, engine="copula", schema=schema)
    with distributed.Client(cluster):
        model = mirage.fit(dd.read_parquet(str(tmp_path / "*.parquet")), engine="copula", schema=schema)
    assert_same_copula(model, whole)
    assert model.schema_ == schema and model.encoder_.schema["reorder_level"].kind is Kind.NUMERIC
    synthetic = mirage.load(_saved(model, tmp_path / "m.mirage")).sample(500, seed=0)
    pd.testing.assert_frame_equal(synthetic, whole.sample(500, seed=0))
    assert synthetic["reorder_level"].nunique() >= 4
