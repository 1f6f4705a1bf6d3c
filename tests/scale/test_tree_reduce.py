"""Per-partition statistics combined in a tree (Dask's ``split_every``): many partitions reduce to the
model a flat reduction gives, here and on a real LocalCluster, and the client holds at most
``split_every`` results per level."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.errors import OptionError
from mirage.scale import fit_partitions
from mirage.scale._executor import tree_levels, tree_reduce
from mirage.schema import Schema, infer_schema
from tests.scale.test_fit_partitions import assert_same_copula

PARTITIONS = 64


@pytest.fixture(scope="module")
def folder(adult: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small-partitions")
    for i, rows in enumerate(np.array_split(np.arange(len(adult)), PARTITIONS)):
        adult.iloc[rows].to_parquet(out / f"part-{i:03d}.parquet")
    return out


@pytest.fixture(scope="module")
def schema(adult: pd.DataFrame) -> Schema:
    return infer_schema(adult)


@pytest.fixture(scope="module")
def flat(folder: Path, schema: Schema) -> mirage.Synthesizer:
    return fit_partitions(f"{folder}/*.parquet", schema=schema, split_every=PARTITIONS)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 15, 16, 17, 63, 64, 65, 70])
@pytest.mark.parametrize("k", [2, 3, 4])
def test_the_streamed_tree_is_the_level_by_level_tree(n: int, k: int) -> None:
    def nest(group: list[object]) -> object:
        return tuple(group)

    leaves: list[object] = list(range(n))
    assert tree_reduce(iter(leaves), nest, k) == tree_levels(leaves, nest, k)


def test_the_streamed_tree_holds_at_most_split_every_results_per_level() -> None:
    pulled, held, most = 0, [0], [0]

    def leaves() -> Iterator[object]:
        nonlocal pulled
        for i in range(200):
            pulled += 1
            most[0] = max(most[0], pulled - held[0])
            yield i

    def combine(group: list[object]) -> object:
        held[0] += sum(isinstance(g, int) for g in group)  # leaves (combined results are strings)
        return "node"

    assert tree_reduce(leaves(), combine, 4) == "node"
    assert held[0] == 200 and most[0] == 4  # leaves pulled but not yet combined


def test_64_small_partitions_reduce_to_the_flat_reduction(
    folder: Path, schema: Schema, flat: mirage.Synthesizer, adult: pd.DataFrame
) -> None:
    tree = fit_partitions(f"{folder}/*.parquet", schema=schema, split_every=4)  # three levels
    assert_same_copula(tree, flat)
    assert_same_copula(tree, mirage.fit(adult, engine="copula", schema=schema))
    assert tree.training_["partitioned"]["partitions"] == PARTITIONS


def test_the_tree_on_the_cluster_is_the_tree_here(folder: Path, schema: Schema, cluster: object) -> None:
    distributed = pytest.importorskip("distributed")
    files = sorted(str(p) for p in folder.glob("*.parquet"))[:12]  # a four-level tree of pairs
    here = fit_partitions(files, schema=schema, split_every=2)
    with distributed.Client(cluster) as client:
        there = fit_partitions(files, schema=schema, split_every=2, client=client)
    assert_same_copula(there, here)  # the workers' BLAS may add a product's terms in another order


def test_the_sample_an_engine_fits_on_is_the_flat_reductions(folder: Path, schema: Schema) -> None:
    tree, flat = (
        fit_partitions(
            f"{folder}/*.parquet", schema=schema, engine="cart", sample_rows=500, sample_seed=3, split_every=k
        )
        for k in (3, PARTITIONS)
    )
    assert tree.training_["partitioned"] == flat.training_["partitioned"]
    assert tree.training_["partitioned"]["sample_rows"] == 500
    pd.testing.assert_frame_equal(tree.sample(300, seed=1), flat.sample(300, seed=1))


@pytest.mark.parametrize("bad", [1, 0, 2.5, True, "4"])
def test_a_bad_split_every_is_named(folder: Path, bad: object) -> None:
    with pytest.raises(OptionError, match="split_every"):
        fit_partitions(f"{folder}/*.parquet", split_every=bad)  # type: ignore[arg-type]
