"""Related tables: fit and sample seconds, peak memory, children-per-parent similarity and integrity,
per-table quality and the joined-view detection AUC; beside SDV's HMA with ``--sdv``.

    python benchmarks/bench_relational.py [--datasets northwind,deep,generated] [--rows 1000000]
                                          [--engine ENGINE] [--scale 1.0] [--seed 0 | --seeds 0,1,2]
                                          [--timeout 3600] [--trees /tmp/main_tree,.]
                                          [--sdv] [--sdv-python /tmp/sdvenv/bin/python] [--dcr]

* ``northwind``: customers <- orders <- order_details -> products (tests/fixtures/northwind).
* ``northwind2``: the same without customers (depth 2, which SDV 2's HMA accepts).
* ``deep``: the depth-4 database of the tests (regions <- stores <- visits <- purchases -> items;
  employees with a self-reference; a nullable second parent), at ``--deep-scale`` times its size.
* ``generated``: customers <- orders <- lines -> products, about ``--rows`` rows in all over three
  levels (customers 4%, orders 20%, lines 76%, plus 2,000 products), with children that depend on their
  parent's columns and dates that follow their parent's.
* ``generated2``: the same without customers (depth 2, which SDV 2's HMA accepts; it refuses depth 3).

Each system fits and samples in its own process, so its peak memory (``ru_maxrss``) is its own; the
samples are scored afterwards in this process, the same way for both: ``card min`` is the smallest
cardinality similarity over the foreign keys (1 - the KS distance between the children-per-parent
distributions), ``quality`` each table's single-table quality score (key columns left out; mean and
lowest), ``joined AUC`` the detection AUC on parent rows joined with aggregates of their children (the
highest over the parent tables; 0.5 = indistinguishable), ``protected AUC`` the same on the protected
view (real values the sample withholds or replaces hidden on both sides,
:func:`mirage.evaluation.protected_view`), ``problems`` the number of integrity problems
of the sample (0: full referential integrity).  The JSON also holds, per parent table, the detector's
five most telling features (the drop in AUC when each is shuffled).

``fit CPU s`` and ``sample CPU s`` are the fitting process's CPU seconds (HMA's too), steadier than wall
seconds on a loaded machine.  ``--dcr`` adds each table's DCR share for mirage (one more fit per seed:
a fifth of the root rows held out with their descendants; 0.5: no closer to the learned rows than to
unseen ones, the bar 0.53).

``--trees``: Mirage source trees to compare side by side in one run (e.g. a ``git archive`` of main next
to this checkout, each with its own defaults): each fits and samples in its own process, the trees
taking turns per seed so that they see the same machine load, their samples scored by this checkout;
the rows are labelled ``mirage@<folder>`` and each table's quality is also printed per tree (mean
over the seeds).  Without ``--engine`` each model picks its tables' engines as it does by default.

``--seeds`` repeats every dataset with each seed (the model's fit and sample, HMA's, and the detection
folds) and ends with the joined and protected AUCs' mean and range over the seeds per system.

``--sdv`` runs SDV's ``HMASynthesizer`` (the optional ``bench`` extra) on the same data in
``--sdv-python`` (default: this interpreter), through ``benchmarks/sdv_hma.py``; SDV pins pandas < 3,
so it usually lives in its own virtual environment
(``python -m venv /tmp/sdvenv --system-site-packages && /tmp/sdvenv/bin/pip install sdv``).  Keys
are declared to HMA as ``id`` columns; a composite primary key (an order line's order and product) is
left undeclared, since SDV has none; where HMA refuses the schema (a self-reference), the refusal is
the result, and HMA is run again without the self-referencing keys (``hma-noself``).  Writes JSON to
``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, environment_info, format_table, run_isolated, write_results

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # the test databases live in tests/relational/schemas.py


def generated_frames(rows: int, seed: int = 0) -> dict[str, Any]:
    """customers <- orders <- lines -> products, about ``rows`` rows over the three levels."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_customers = max(50, round(rows / 23))  # 1 customer, 4.6 orders, 17.4 lines: 23 rows
    segment = rng.choice(["retail", "business", "vip"], n_customers, p=[0.7, 0.25, 0.05])
    signup = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 1500, n_customers), unit="D")
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, n_customers + 1),
            "segment": segment,
            "age": rng.integers(18, 90, n_customers),
            "signup": signup,
        }
    )
    rate = np.select([segment == "vip", segment == "business"], [15.0, 7.0], 3.0)
    orders_per = rng.poisson(rate)
    owner = np.repeat(np.arange(n_customers), orders_per)
    n_orders = owner.size
    ordered = signup[owner] + pd.to_timedelta(rng.integers(0, 700, n_orders), unit="D")
    channel = rng.choice(["web", "store", "phone"], n_orders, p=[0.6, 0.3, 0.1])
    orders = pd.DataFrame(
        {
            "order_id": [f"O-{i:08d}" for i in range(n_orders)],
            "customer_id": customers["customer_id"].to_numpy()[owner],
            "channel": channel,
            "ordered": ordered,
            "shipped": ordered + pd.to_timedelta(rng.integers(0, 8, n_orders), unit="D"),
        }
    )
    n_products = 2000
    products = pd.DataFrame(
        {
            "product_id": np.arange(n_products),
            "category": rng.choice(["food", "home", "toys", "tools", "books"], n_products),
            "list_price": rng.lognormal(3, 0.8, n_products).round(2),
        }
    )
    lines_per = 1 + rng.poisson(np.where(channel == "web", 3.3, 2.0))
    parent = np.repeat(np.arange(n_orders), lines_per)
    n_lines = parent.size
    popularity = rng.dirichlet(np.full(n_products, 0.3))
    product = rng.choice(n_products, n_lines, p=popularity)
    lines = pd.DataFrame(
        {
            "line_id": np.arange(n_lines),
            "order_id": orders["order_id"].to_numpy()[parent],
            "product_id": product,
            "quantity": 1 + rng.poisson(1.5, n_lines),
            "price": (products["list_price"].to_numpy()[product] * rng.uniform(0.8, 1.0, n_lines)).round(2),
        }
    )
    return {"customers": customers, "orders": orders, "products": products, "lines": lines}


def generated_database(frames: dict[str, Any]) -> Any:
    from mirage.schema import DatabaseSchema, ForeignKey, Table, infer_schema

    keys = {"customers": "customer_id", "orders": "order_id", "products": "product_id", "lines": "line_id"}
    return DatabaseSchema(
        tables={n: Table(n, infer_schema(frames[n]), primary_key=(k,)) for n, k in keys.items()},
        foreign_keys=[
            ForeignKey("orders", ("customer_id",), "customers", ("customer_id",)),
            ForeignKey("lines", ("order_id",), "orders", ("order_id",)),
            ForeignKey("lines", ("product_id",), "products", ("product_id",)),
        ],
    )


def load(dataset: str, rows: int, deep_scale: int, seed: int) -> tuple[Any, dict[str, Any]]:
    from tests.relational.schemas import deep_database, deep_frames, northwind_database, northwind_frames

    if dataset in ("northwind", "northwind2"):
        frames = northwind_frames()
        database = northwind_database(frames)
        if dataset == "northwind2":  # depth 2, which SDV 2's HMA accepts: orders <- lines -> products
            from mirage.schema import DatabaseSchema, Schema, Table

            del frames["customers"]
            frames["orders"] = frames["orders"].drop(columns="customer_id")
            orders = database["orders"]
            tables = {n: t for n, t in database.tables.items() if n not in ("customers", "orders")}
            kept = [c for c in orders.schema if c.name != "customer_id"]
            tables["orders"] = Table("orders", Schema(kept, locale=orders.schema.locale), orders.primary_key)
            keys = [fk for fk in database.foreign_keys if fk.parent != "customers"]
            database = DatabaseSchema(tables=tables, foreign_keys=keys)
        return database, frames
    if dataset == "deep":
        frames = deep_frames(scale=deep_scale)
        return deep_database(frames), frames
    frames = generated_frames(rows, seed)
    database = generated_database(frames)
    if dataset == "generated2":  # depth 2, which SDV 2's HMA accepts: orders <- lines -> products
        from mirage.schema import DatabaseSchema, Schema, Table

        del frames["customers"]
        frames["orders"] = frames["orders"].drop(columns="customer_id")
        orders = database["orders"]
        kept = [c for c in orders.schema if c.name != "customer_id"]
        tables = {n: t for n, t in database.tables.items() if n not in ("customers", "orders")}
        tables["orders"] = Table("orders", Schema(kept, locale=orders.schema.locale), orders.primary_key)
        keys = [fk for fk in database.foreign_keys if fk.parent != "customers"]
        database = DatabaseSchema(tables=tables, foreign_keys=keys)
    return database, frames


def measure(
    dataset: str,
    rows: int,
    deep_scale: int,
    engine: str,
    scale: float,
    seed: int,
    out: str | None = None,
    tree: str | None = None,
) -> dict[str, Any]:
    """Fit and sample with the mirage of ``tree`` (this checkout's when None), in its own process."""
    if tree is not None:
        sys.path.insert(0, tree)
    import warnings

    warnings.simplefilter("ignore")
    import mirage
    from mirage.relational import RelationalSynthesizer
    from mirage.relational._cardinality import cardinality_similarity

    database, frames = load(dataset, rows, deep_scale, seed)
    start, cpu = time.perf_counter(), time.process_time()
    model = RelationalSynthesizer(database, **_engine(engine), seed=seed).fit(frames)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    synthetic = model.sample(scale=scale, seed=seed)
    sample_s, sample_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    sampled = sum(len(f) for f in synthetic.values())
    cardinality = {fk.name: cardinality_similarity(frames, synthetic, fk) for fk in database.foreign_keys}
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        for name, frame in synthetic.items():
            frame.to_parquet(Path(out) / f"{name}.parquet", index=False)
    return {
        "mirage": str(Path(mirage.__file__).parent.parent),
        "tables": len(frames),
        "real_rows": sum(len(f) for f in frames.values()),
        "sampled_rows": sampled,
        "fit_s": fit_s,
        "sample_s": sample_s,
        "fit_cpu_s": fit_cpu_s,
        "sample_cpu_s": sample_cpu_s,
        "rows_per_s": sampled / sample_s if sample_s > 0 else float("inf"),
        "cardinality": cardinality,
        "integrity_problems": database.integrity_problems(synthetic),
    }


def _engine(name: str) -> dict[str, Any]:
    """``engine`` (and ``params``) for RelationalSynthesizer: none when ``--engine`` is empty (the tree's
    own default); ``gmm@quantiles=30`` gives every table that engine with those hyperparameters."""
    if not name:
        return {}
    engine, _, given = name.partition("@")
    params = {
        key: json.loads(value)
        for key, value in (item.split("=", 1) for item in filter(None, given.split(",")))
    }
    return {"engine": engine, **({"params": params} if params else {})}


def table_dcr(
    dataset: str, rows: int, deep_scale: int, engine: str, seed: int, tree: str | None = None
) -> dict[str, float]:
    """Each table's DCR share (0.5: no closer to the rows learned than to unseen ones; the bar 0.53):
    a fifth of the root rows held out with their descendants (``split_database``), the rest learned
    and sampled with ``seed``, keys left out of the distance.  One split: on a table of a few dozen
    rows its share is good to +-0.05 (``bench_relational_dcr.py`` reads every fold over many seeds)."""
    if tree is not None:
        sys.path.insert(0, tree)
    import warnings

    warnings.simplefilter("ignore")
    from mirage.evaluation._privacy import dcr
    from mirage.relational import RelationalSynthesizer, split_database
    from mirage.schema import Schema

    database, frames = load(dataset, rows, deep_scale, seed)
    learned, held = split_database(database, frames, 0.2, seed)
    model = RelationalSynthesizer(database, **_engine(engine), seed=seed)
    synthetic = model.fit(learned).sample(seed=seed)
    shares: dict[str, float] = {}
    for name in database.order():
        keys = set(database.key_columns(name))
        columns = [c for c in database[name].schema if c.name not in keys and c.kind.learned]
        names = [c.name for c in columns]
        if not columns or not len(held[name]) or not len(synthetic[name]) or database[name].reference:
            continue
        result = dcr(
            learned[name][names],
            held[name][names],
            synthetic[name][names],
            Schema(columns),
            seed=seed,
            return_distances=False,
        )
        shares[name] = float(result["dcr_share"])
    return shares


def score(database: Any, real: dict[str, Any], synthetic: dict[str, Any], seed: int) -> dict[str, Any]:
    """The same scores for any system's sample: per-table quality, cardinality, joined-view AUC."""
    import warnings

    warnings.simplefilter("ignore")
    from mirage.evaluation import evaluate, evaluate_relational
    from mirage.schema import Schema

    quality: dict[str, float | None] = {}
    for name in database.order():
        keys = set(database.key_columns(name))
        columns = [c for c in database[name].schema if c.name not in keys]
        if not columns or not len(synthetic[name]):
            continue
        names = [c.name for c in columns]
        report = evaluate(
            real[name][names], synthetic[name][names], schema=Schema(columns), seed=seed, reference=False
        )
        quality[name] = report.scores.get("quality")
    relational = evaluate_relational(database, real, synthetic, seed=seed, n_threads=1)
    per_key = relational.cardinality["per_foreign_key"]
    values = [v for v in quality.values() if v is not None]
    return {
        "quality": quality,
        "quality_mean": sum(values) / len(values) if values else None,
        "quality_min": min(values) if values else None,
        "cardinality": {k: v["score"] for k, v in per_key.items()},
        "cardinality_min": min(v["score"] for v in per_key.values()),
        "joined_detection_auc": relational.detection["detection_auc"],
        "detection_top_features": {
            table: scores["top_features"] for table, scores in relational.detection["per_table"].items()
        },
        "protected_view_auc": relational.detection.get("protected_view_auc"),
        "integrity_problems": len(relational.integrity["problems"]),
    }


def sdv_metadata(database: Any, drop_self_references: bool = False) -> dict[str, Any]:
    """The database as SDV's metadata (V1): key columns ``id``, the rest by kind."""
    from mirage.schema import Kind

    tables: dict[str, Any] = {}
    for name in database.order():
        keys = set(database.key_columns(name))
        columns: dict[str, Any] = {}
        for column in database[name].schema:
            if column.name in keys:
                columns[column.name] = {"sdtype": "id"}
            elif column.kind is Kind.NUMERIC:
                columns[column.name] = {"sdtype": "numerical"}
            elif column.kind is Kind.BOOLEAN:
                columns[column.name] = {"sdtype": "boolean"}
            elif column.kind is Kind.DATETIME:
                columns[column.name] = {"sdtype": "datetime"}
                if column.datetime_format:
                    columns[column.name]["datetime_format"] = column.datetime_format
            else:
                columns[column.name] = {"sdtype": "categorical"}
        entry: dict[str, Any] = {"columns": columns}
        if len(database[name].primary_key) == 1:
            entry["primary_key"] = database[name].primary_key[0]
        tables[name] = entry
    relationships = [
        {
            "parent_table_name": fk.parent,
            "child_table_name": fk.child,
            "parent_primary_key": fk.parent_columns[0],
            "child_foreign_key": fk.columns[0],
        }
        for fk in database.foreign_keys
        if not (drop_self_references and fk.self_reference)
    ]
    return {"METADATA_SPEC_VERSION": "V1", "tables": tables, "relationships": relationships}


def run_sdv(
    python: str,
    database: Any,
    frames: dict[str, Any],
    seed: int,
    timeout: float,
    drop_self: bool,
    memory_gib: float | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """HMA in ``python`` on ``frames``: its timings and memory, and its sample (None when it failed).

    The process is watched: stopped past ``timeout`` seconds or ``memory_gib`` resident, its CPU
    seconds, resident peak and last progress line at that moment are the result (how far it got)."""
    import pandas as pd

    with tempfile.TemporaryDirectory() as folder:
        real, out = Path(folder) / "real", Path(folder) / "out"
        real.mkdir()
        for name, frame in frames.items():
            frame.to_parquet(real / f"{name}.parquet", index=False)
        spec = Path(folder) / "metadata.json"
        spec.write_text(json.dumps(sdv_metadata(database, drop_self)), encoding="utf-8")
        script = str(Path(__file__).with_name("sdv_hma.py"))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        watched = _watch(
            [python, script, str(real), str(spec), str(out), str(seed)], env, timeout, memory_gib
        )
        if watched["stopped"] is not None:
            return {"ok": False, "error": watched["stopped"], **watched["at_stop"]}, None
        lines = [line for line in watched["stdout"].splitlines() if line.startswith("{")]
        if not lines:
            tail = watched["stderr"].strip().splitlines()[-1:] or ["no output"]
            return {"ok": False, "error": f"exit {watched['returncode']}: {tail[0]}"}, None
        result = dict(json.loads(lines[-1]))
        if not result.get("ok"):
            return result, None
        synthetic = {name: pd.read_parquet(out / f"{name}.parquet") for name in frames}
    return result, synthetic


def _watch(
    command: list[str], env: dict[str, str], timeout: float, memory_gib: float | None
) -> dict[str, Any]:
    """Run ``command``, polling its resident memory and CPU seconds; kill it past ``timeout`` seconds
    or ``memory_gib`` resident and say where it stood (its last progress line included)."""
    import threading

    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, errors="replace"
    )
    captured: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def pump(stream: Any, key: str) -> None:
        for chunk in iter(lambda: stream.read(4096), ""):
            captured[key].append(chunk)

    pumps = [
        threading.Thread(target=pump, args=(process.stdout, "stdout"), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, "stderr"), daemon=True),
    ]
    for thread in pumps:
        thread.start()
    begun, peak, stopped = time.monotonic(), 0.0, None
    cpu = 0.0
    while process.poll() is None:
        rss, cpu = _rss_and_cpu(process.pid, cpu)
        peak = max(peak, rss)
        elapsed = time.monotonic() - begun
        if memory_gib is not None and rss > memory_gib * 1024:
            stopped = (
                f"stopped at {rss / 1024:.1f} GiB resident (limit {memory_gib:g} GiB) after {elapsed:.0f} s"
            )
        elif elapsed > timeout:
            stopped = f"timed out after {elapsed:.0f} s"
        if stopped is not None:
            process.kill()
            break
        time.sleep(0.5)
    process.wait()
    for thread in pumps:
        thread.join(timeout=5)
    stderr = "".join(captured["stderr"])
    progress = [line.strip() for line in stderr.replace("\r", "\n").splitlines() if line.strip()]
    return {
        "stopped": stopped,
        "at_stop": {"cpu_s_at_stop": cpu, "peak_rss_mib": peak, "last_progress": progress[-1:] or None},
        "stdout": "".join(captured["stdout"]),
        "stderr": stderr,
        "returncode": process.returncode,
    }


def _rss_and_cpu(pid: int, cpu: float) -> tuple[float, float]:
    """A process's resident MiB and CPU seconds from /proc (0 and ``cpu`` once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, cpu
    rss = next(
        (int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0
    )
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


def _row(
    system: str,
    dataset: str,
    r: dict[str, Any],
    peak_mib: float | None,
    scores: dict[str, Any],
    dcr: dict[str, float] | None = None,
) -> list[str]:
    def number(value: Any, digits: int = 3) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    return [
        system,
        dataset,
        f"{r.get('real_rows', 0):,}",
        number(r.get("fit_s"), 1),
        number(r.get("sample_s"), 1),
        number(r.get("fit_cpu_s"), 1),
        number(r.get("sample_cpu_s"), 1),
        number((peak_mib or 0) / 1024, 2),
        number(scores.get("quality_mean")),
        number(scores.get("quality_min")),
        number(scores.get("cardinality_min")),
        number(scores.get("joined_detection_auc")),
        number(scores.get("protected_view_auc")),
        str(scores.get("integrity_problems", "-")),
        _shares(dcr),
    ]


def _shares(dcr: dict[str, float] | None) -> str:
    if not dcr:
        return "-"
    return ", ".join(f"{name} {share:.2f}" for name, share in dcr.items())


def _one(
    args: argparse.Namespace,
    dataset: str,
    seed: int,
    results: dict[str, Any],
    table: list[list[str]],
    aucs: dict[tuple[str, str], list[tuple[float | None, float | None]]],
    qualities: dict[tuple[str, str], list[dict[str, float | None]]],
) -> None:
    """Fit, sample and score mirage (each of ``--trees``) and HMA (``--sdv``) on ``dataset`` with ``seed``."""
    database, frames = load(dataset, args.rows, args.deep_scale, seed)
    trees = [str(Path(t).resolve()) for t in args.trees.split(",")] if args.trees else [None]
    for tree in trees:
        system = "mirage" if tree is None else f"mirage@{Path(tree).name}"
        _mirage(args, dataset, seed, database, frames, tree, system, results, table, aucs, qualities)
    if args.sdv:
        _sdv(args, dataset, seed, database, frames, results, table, aucs)


def _mirage(
    args: argparse.Namespace,
    dataset: str,
    seed: int,
    database: Any,
    frames: dict[str, Any],
    tree: str | None,
    system: str,
    results: dict[str, Any],
    table: list[list[str]],
    aucs: dict[tuple[str, str], list[tuple[float | None, float | None]]],
    qualities: dict[tuple[str, str], list[dict[str, float | None]]],
) -> None:
    import pandas as pd

    scored = sum(len(f) for f in frames.values()) <= args.score_max_rows
    with tempfile.TemporaryDirectory() as folder:
        run = run_isolated(
            measure,
            dataset,
            args.rows,
            args.deep_scale,
            args.engine,
            args.scale,
            seed,
            folder if scored else None,
            tree,
            timeout=args.timeout,
        )
        scores: dict[str, Any] = {}
        if run.ok and scored:
            sampled = {name: pd.read_parquet(Path(folder) / f"{name}.parquet") for name in frames}
            scores = score(database, frames, sampled, seed)
        elif run.ok and run.result is not None:  # too large to score: its integrity still
            scores = {"integrity_problems": len(run.result["integrity_problems"])}
    shares: dict[str, float] | None = None
    if args.dcr and run.ok:
        held = run_isolated(
            table_dcr, dataset, args.rows, args.deep_scale, args.engine, seed, tree, timeout=args.timeout
        )
        shares = held.result if held.ok else None
    results.setdefault(dataset, {}).setdefault(str(seed), {})[system] = {
        **run.as_dict(),
        "scores": scores,
        "dcr_share": shares,
    }
    aucs.setdefault((system, dataset), []).append(_aucs(scores))
    if scores.get("quality"):
        qualities.setdefault((system, dataset), []).append(scores["quality"])
    if not run.ok:
        table.append([system, f"{dataset} (seed {seed})", "failed: " + str(run.error).splitlines()[-1]])
    else:
        table.append(_row(system, f"{dataset} (seed {seed})", run.result, run.peak_rss_mib, scores, shares))


def _sdv(
    args: argparse.Namespace,
    dataset: str,
    seed: int,
    database: Any,
    frames: dict[str, Any],
    results: dict[str, Any],
    table: list[list[str]],
    aucs: dict[tuple[str, str], list[tuple[float | None, float | None]]],
) -> None:
    scored = sum(len(f) for f in frames.values()) <= args.score_max_rows
    attempts = [("hma", False)]
    if any(fk.self_reference for fk in database.foreign_keys):
        attempts.append(("hma-noself", True))
    for label, drop_self in attempts:
        result, synthetic = run_sdv(
            args.sdv_python,
            database,
            frames,
            seed,
            args.sdv_timeout or args.timeout,
            drop_self,
            args.sdv_memory_gib,
        )
        result["real_rows"] = sum(len(f) for f in frames.values())
        sdv_scores = score(database, frames, synthetic, seed) if synthetic and scored else {}
        if synthetic and not scored:  # too large to score: its integrity still
            sdv_scores = {"integrity_problems": len(database.integrity_problems(synthetic))}
        results.setdefault(dataset, {}).setdefault(str(seed), {})[label] = {**result, "scores": sdv_scores}
        if synthetic is None:
            if "cpu_s_at_stop" in result:  # stopped by the watch: how far it got
                where = f"{result['cpu_s_at_stop']:.0f} CPU s, {result['peak_rss_mib'] / 1024:.2f} GiB peak"
                progress = (result.get("last_progress") or ["no progress line"])[0]
                table.append([label, f"{dataset} (seed {seed})", f"{result['error']} ({where}; {progress})"])
            else:
                table.append([label, f"{dataset} (seed {seed})", f"refused: {result.get('error')}"])
        else:
            table.append(
                _row(label, f"{dataset} (seed {seed})", result, result.get("peak_rss_mib"), sdv_scores)
            )
            aucs.setdefault((label, dataset), []).append(_aucs(sdv_scores))
            break  # a second attempt only where HMA refused the whole schema


def _aucs(scores: dict[str, Any]) -> tuple[float | None, float | None]:
    return scores.get("joined_detection_auc"), scores.get("protected_view_auc")


def _mean_range(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{sum(values) / len(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="northwind,deep,generated")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated database")
    parser.add_argument("--deep-scale", type=int, default=1, help="size of the deep database (x 11k rows)")
    parser.add_argument(
        "--engine", default="", help="every table's engine (default: the model's own), e.g. gmm@quantiles=30"
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds",
        default=None,
        help="comma-separated seeds (fit, sample and scoring), e.g. 0,1,2; overrides --seed",
    )
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--trees", default="", help="comma-separated Mirage source trees (default: this one)")
    parser.add_argument("--sdv", action="store_true", help="run SDV's HMASynthesizer beside mirage")
    parser.add_argument("--sdv-python", default=sys.executable, help="the interpreter that has SDV")
    parser.add_argument("--sdv-timeout", type=float, default=None, help="HMA's own time limit (s)")
    parser.add_argument(
        "--sdv-memory-gib", type=float, default=None, help="stop HMA past this resident memory (GiB)"
    )
    parser.add_argument(
        "--dcr",
        action="store_true",
        help="also each table's DCR share (mirage only): a fifth of the root families held out, one more fit",
    )
    parser.add_argument(
        "--score-max-rows", type=int, default=200_000, help="score samples of databases up to this size"
    )
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    results: dict[str, Any] = {}
    table: list[list[str]] = []
    aucs: dict[tuple[str, str], list[tuple[float | None, float | None]]] = {}
    qualities: dict[tuple[str, str], list[dict[str, float | None]]] = {}
    for dataset in args.datasets.split(","):
        for seed in seeds:
            _one(args, dataset, seed, results, table, aucs, qualities)
    headers = [
        "system",
        "dataset",
        "rows",
        "fit s",
        "sample s",
        "fit CPU s",
        "sample CPU s",
        "peak GiB",
        "quality mean",
        "quality min",
        "card min",
        "joined AUC",
        "protected AUC",
        "problems",
        "DCR share per table",
    ]
    print(format_table(headers, [row + [""] * (len(headers) - len(row)) for row in table]))
    if len(seeds) > 1:
        summary = []
        for (system, dataset), pairs in aucs.items():
            joined = [a for a, _ in pairs if a is not None]
            protected = [b for _, b in pairs if b is not None]
            summary.append(
                [
                    system,
                    dataset,
                    str(len(pairs)),
                    _mean_range(joined),
                    _mean_range(protected),
                ]
            )
        print(
            format_table(["system", "dataset", "seeds", "joined AUC mean (range)", "protected AUC"], summary)
        )
    if args.trees:
        for (system, dataset), per_seed in qualities.items():
            names = list(per_seed[0])
            means = [
                f"{name} {sum(q[name] or 0.0 for q in per_seed) / len(per_seed):.3f}"
                for name in names
                if all(q.get(name) is not None for q in per_seed)
            ]
            print(f"{system} {dataset} quality per table ({len(per_seed)} seeds): " + ", ".join(means))
    payload = {"args": vars(args), "environment": environment_info(), "results": results}
    for path in write_results("relational", payload):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
