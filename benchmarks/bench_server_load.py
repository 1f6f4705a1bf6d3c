"""A bounded load on ``mirage serve`` over loopback: many clients polling jobs while fits run.

    python benchmarks/bench_server_load.py --clients 50 --fits 4

starts ``mirage serve --workers FITS`` on a free loopback port, uploads the bundled census sample,
submits FITS cart fits at once and has CLIENTS concurrent clients poll the jobs (one job's resource,
then the job list, in turn) until every fit has finished.  Prints and writes (benchmarks/results/)
the request count, errors, latency percentiles and the fits' outcome.  ``tests/server/test_load.py``
runs the same load (``run_load``) and requires no error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "mirage" / "demo" / "adult_sample.csv"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/login\?token=(\S+)")


async def _client(
    http: Any, job_ids: list[str], latencies: list[float], errors: list[str], done: Any
) -> None:
    turn = 0
    while not done.is_set():
        path = f"/api/jobs/{job_ids[turn % len(job_ids)]}" if turn % 2 == 0 else "/api/jobs"
        turn += 1
        start = time.perf_counter()
        try:
            answer = await http.get(path)
            if answer.status_code != 200:
                errors.append(f"{path}: {answer.status_code} {answer.text[:200]}")
        except Exception as exc:  # any failure to answer is an error of the load test
            errors.append(f"{path}: {type(exc).__name__}: {exc}")
        latencies.append(time.perf_counter() - start)
        await asyncio.sleep(0.05)


async def _load(base: str, token: str, clients: int, fits: int, timeout: float) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as http:
        upload = await http.post("/api/datasets", files={"file": ("adult.csv", DEMO.read_bytes())})
        upload.raise_for_status()
        dataset = upload.json()["id"]
        jobs = []
        for seed in range(fits):
            body = {"kind": "fit", "dataset_id": dataset, "engine": "cart", "seed": seed}
            answer = await http.post("/api/jobs", json=body)
            answer.raise_for_status()
            jobs.append(answer.json()["id"])
        latencies: list[float] = []
        errors: list[str] = []
        done = asyncio.Event()
        start = time.perf_counter()
        tasks = [asyncio.create_task(_client(http, jobs, latencies, errors, done)) for _ in range(clients)]
        states: list[str] = []
        while time.perf_counter() - start < timeout:
            states = [(await http.get(f"/api/jobs/{j}")).json()["state"] for j in jobs]
            if all(s in ("succeeded", "failed", "cancelled") for s in states):
                break
            await asyncio.sleep(0.5)
        done.set()
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - start
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "clients": clients,
        "fits": fits,
        "seconds": round(seconds, 1),
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / seconds, 1),
        "errors": errors[:20],
        "error_count": len(errors),
        "latency_ms": {
            "mean": round(1000 * statistics.fmean(latencies), 1),
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "max": round(1000 * ordered[-1], 1),
        },
        "fit_states": states,
    }


def run_load(base: str, token: str, clients: int = 50, fits: int = 4, timeout: float = 600) -> dict[str, Any]:
    """The figures of one bounded load on a running server at ``base``."""
    return asyncio.run(_load(base, token, clients, fits, timeout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--fits", type=int, default=4)
    args = parser.parse_args()
    workers = ["--workers", str(args.fits)]
    with tempfile.TemporaryDirectory() as data:
        process = subprocess.Popen(
            [sys.executable, "-m", "mirage.cli", "serve", "--port", "0", "--data-dir", data, *workers],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert process.stdout is not None
            for line in process.stdout:
                found = LINK.search(line)
                if found:
                    break
            else:
                raise SystemExit("mirage serve printed no login link")
            figures = run_load(found[1], found[2], args.clients, args.fits)
        finally:
            process.kill()
            process.wait()
    print(json.dumps(figures, indent=2))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"server_load-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
