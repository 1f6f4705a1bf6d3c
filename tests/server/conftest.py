"""Fixtures of the server tests: a real app over a temporary data directory, the token, small tables."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("fastapi", reason="the web extra (pip install mirage-synth[web]) is not installed")

from fastapi.testclient import TestClient

from mirage.server import Limits, create_app

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEMO = Path(__file__).resolve().parents[2] / "mirage" / "demo" / "adult_sample.csv"


def table_bytes(rows: int = 300) -> bytes:
    return pd.read_csv(DEMO).iloc[:rows].to_csv(index=False).encode()


def wait_for(client: TestClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    """The job once it has finished (polling its resource)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}", headers=AUTH).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(tmp_path / "data", TOKEN, workers=2, limits=Limits(upload_bytes=2_000_000))
    with TestClient(app) as c:
        yield c


@pytest.fixture
def dataset(client: TestClient) -> dict[str, Any]:
    answer = client.post("/api/datasets", files={"file": ("adult.csv", table_bytes())}, headers=AUTH)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture
def model(client: TestClient, dataset: dict[str, Any]) -> dict[str, Any]:
    job = client.post(
        "/api/jobs", json={"kind": "fit", "dataset_id": dataset["id"], "engine": "cart"}, headers=AUTH
    ).json()
    done = wait_for(client, job["id"])
    assert done["state"] == "succeeded", done
    return dict(client.get(f"/api/models/{done['result']['model_id']}", headers=AUTH).json())
