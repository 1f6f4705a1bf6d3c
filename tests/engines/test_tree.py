import subprocess
import sys

import numpy as np
import pandas as pd

from mirage.engines._tree import COMPILE_ROWS, TreeArrays, _compile
from mirage.engines.cart import CartSynthesizer


def _tree() -> TreeArrays:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {"a": rng.normal(size=3000), "b": rng.integers(0, 9, 3000), "c": rng.normal(size=3000)}
    )
    tree = CartSynthesizer(min_samples_leaf=30).fit(frame).trees_[-1]
    assert tree.n_leaves > 1
    return tree


def test_small_and_large_inputs_reach_the_same_leaves_as_the_compiled_tree() -> None:
    tree = _tree()
    compiled = _compile(tree, 3)
    assert compiled is not None
    rng = np.random.default_rng(8)
    for rows in (5, COMPILE_ROWS - 1, COMPILE_ROWS + 1):
        probe = (rng.normal(size=(rows, 3)) * [1, 5, 1]).astype("float32")
        fresh = TreeArrays(tree.left, tree.right, tree.feature, tree.threshold, tree.leaf_index)
        np.testing.assert_array_equal(fresh.apply(probe), tree.leaf_index[compiled[0].apply(probe)])


def test_sampling_a_small_table_from_a_model_file_does_not_load_scikit_learn(tmp_path) -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"x": rng.normal(size=600), "y": rng.choice(["a", "b", "c"], 600)})
    frame["z"] = frame["x"] * 2 + rng.normal(size=600)
    path = CartSynthesizer(seed=1).fit(frame).save(tmp_path / "m.mirage")
    script = (
        "import sys, mirage\n"
        f"rows = mirage.load({str(path)!r}).sample(500, seed=3)\n"
        "assert len(rows) == 500\n"
        "print('sklearn' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
