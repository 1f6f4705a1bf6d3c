"""Bit-identity of ``argn`` between two checkouts: the model's arrays and engine state, sampled,
conditioned and imputed frames, log-probabilities and the discretiser's tokens and decoded values
on Northwind's orders (dates) with an added datetime column with times of day.

    PYTHONPATH=/path/to/old python benchmarks/argn_fingerprint.py write /tmp/old
    PYTHONPATH=/path/to/new python benchmarks/argn_fingerprint.py write /tmp/new \
        --old-model /tmp/old/model.mirage
    python benchmarks/argn_fingerprint.py compare /tmp/old /tmp/new

``--old-model`` also samples from the model file the old checkout wrote (``sample_old_file.csv``, to
compare with the old ``sample.csv``: model files written before load the same).  ``compare`` exits 1
when a file differs.  This is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from _common import DEFAULT_DATA_DIR

COLUMNS = ["customer_id", "employee_id", "order_date", "required_date", "shipped_date", "ship_via", "freight"]


def table(data_dir: Path) -> pd.DataFrame:
    orders = pd.read_csv(data_dir / "northwind" / "orders.csv")
    frame = orders[[*COLUMNS, "ship_country"]].copy()
    seconds = np.random.default_rng(5).integers(8 * 3600, 18 * 3600, len(frame))
    placed = pd.to_datetime(frame["order_date"]) + pd.to_timedelta(seconds, unit="s")
    frame["placed_at"] = placed.dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


def write(out: Path, data_dir: Path, old_model: Path | None) -> None:
    from safetensors.numpy import save_file

    from mirage.encoding.discretise import Discretiser
    from mirage.engines import ENGINES
    from mirage.model_file import load_model, model_bytes

    out.mkdir(parents=True, exist_ok=True)
    frame = table(data_dir)
    model = ENGINES["argn"](max_epochs=3, seed=0, cpu_threads=1).fit(frame)
    state, arrays = model.get_state()
    (out / "engine_state.json").write_text(json.dumps(state["engine"], sort_keys=True, indent=1))
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(out / "arrays.safetensors"))
    (out / "model.mirage").write_bytes(model_bytes(model))
    holes = np.random.default_rng(3).random((100, frame.shape[1])) < 0.2
    frames = {
        "sample": model.sample(500, seed=1),
        "sample_loaded": load_model(model_bytes(model)).sample(500, seed=1),
        "conditioned": model.sample(200, seed=2, conditions={"ship_country": "Germany"}),
        "imputed": model.impute(frame.head(100).mask(holes), seed=4),
    }
    if old_model is not None:
        frames["sample_old_file"] = load_model(old_model).sample(500, seed=1)
    for name, f in frames.items():
        f.to_csv(out / f"{name}.csv", index=False, float_format="%.17g")
    np.save(out / "log_prob.npy", model.log_prob(frame.head(200)))
    disc = model.discretiser_
    tokens = disc.encode(model.encoder_.encode(frame))
    np.save(out / "tokens.npy", tokens)
    decoded = disc.decode(tokens, np.random.default_rng(9))
    np.savez(out / "decoded.npz", **{k.replace(":", "_"): v for k, v in decoded.items()})
    disc_state, disc_arrays = disc.get_state()
    again = Discretiser.from_state(json.loads(json.dumps(disc_state)), disc_arrays)
    redecoded = again.decode(tokens, np.random.default_rng(9))
    if not all(np.array_equal(decoded[k], redecoded[k]) for k in decoded):
        raise SystemExit("the restored discretiser decodes otherwise")
    print("written", out)


def compare(a: Path, b: Path) -> None:
    from safetensors.numpy import load_file

    differ = []
    for path in sorted(a.iterdir()):
        if path.suffix == ".mirage":  # holds the fit's timings; its arrays and state are compared
            continue
        other = b / path.name
        if not other.exists():
            print("missing  ", path.name)
            continue
        if path.suffix == ".safetensors":
            x, y = load_file(str(path)), load_file(str(other))
            same = x.keys() == y.keys() and all(
                x[k].dtype == y[k].dtype and np.array_equal(x[k], y[k], equal_nan=True) for k in x
            )
        else:
            same = path.read_bytes() == other.read_bytes()
        print("same     " if same else "DIFFERENT", path.name)
        differ += [] if same else [path.name]
    sys.exit(1 if differ else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    w = commands.add_parser("write")
    w.add_argument("out", type=Path)
    w.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    w.add_argument("--old-model", type=Path)
    c = commands.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "write":
        write(args.out, args.data_dir, args.old_model)
    else:
        compare(args.a, args.b)


if __name__ == "__main__":
    main()
