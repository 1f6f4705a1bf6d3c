"""``mirage serve`` as a real process on loopback: the login link, the token, a restart after kill -9."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from mirage.cli import app as cli_app
from mirage.cli.serve import read_token
from tests.server.conftest import TOKEN, table_bytes

LINK = re.compile(r"http://(127\.0\.0\.1|\[::1\]|localhost):(\d+)/login\?token=(\S+)")


@contextmanager
def serving(data_dir: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """A ``mirage serve`` process on a free port: (process, base URL, token); killed at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mirage.cli", "serve", "--port", "0", "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            found = LINK.search(line)
            if found:
                yield process, f"http://{found[1]}:{found[2]}", found[3]
                break
        else:
            raise AssertionError("mirage serve printed no login link: " + "".join(lines))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_serve_prints_a_login_link_and_guards_every_request(tmp_path: Path) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text(TOKEN + "\n")
    with serving(tmp_path / "data", "--token-file", str(token_file)) as (_, base, token):
        assert token == TOKEN and base.startswith("http://127.0.0.1:")
        assert httpx.get(f"{base}/api/jobs").status_code == 401
        assert httpx.get(f"{base}/").status_code == 401
        login = httpx.get(f"{base}/login?token={token}", follow_redirects=False)
        assert login.status_code == 303
        home = httpx.get(f"{base}/", cookies={"mirage_token": token})
        assert home.status_code == 200 and "Upload a table" in home.text
        assert httpx.get(f"{base}/static/htmx.min.js", cookies={"mirage_token": token}).status_code == 200


def test_serve_makes_a_token_when_none_is_given_and_refuses_a_weak_one(tmp_path: Path) -> None:
    assert len(read_token(None)) >= 40 and read_token(None) != read_token(None)
    weak = tmp_path / "weak.txt"
    for text in ("short\n", "a token with spaces in it\n", "x" * 20 + ";y\n"):
        weak.write_text(text)
        args = ["serve", "--token-file", str(weak), "--data-dir", str(tmp_path)]
        result = CliRunner().invoke(cli_app, args)
        assert result.exit_code == 2
        output = " ".join(result.output.split())
        assert "the token must be one line of at least 16 printable characters" in output
    assert not (tmp_path / "mirage.db").exists()  # refused before anything is written


def _wait(client: httpx.Client, job_id: str, states: tuple[str, ...], timeout: float = 120) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {states}")


@pytest.mark.slow
def test_a_restart_after_kill_9_during_a_fit_marks_it_failed_and_leaves_no_partial_model(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    token_file = tmp_path / "token.txt"
    token_file.write_text(TOKEN)
    body = table_bytes(300)
    big = body + b"\n".join(body.splitlines()[1:] * 60) + b"\n"  # 18,300 rows: a fit of some seconds
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with serving(data, "--token-file", str(token_file)) as (process, base, _):
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            quick = client.post("/api/datasets", files={"file": ("small.csv", body)}).json()
            done = client.post("/api/jobs", json={"kind": "fit", "dataset_id": quick["id"], "engine": "cart"})
            finished = _wait(client, done.json()["id"], ("succeeded", "failed"))
            assert finished["state"] == "succeeded", finished
            dataset = client.post("/api/datasets", files={"file": ("big.csv", big)}).json()
            job = client.post(
                "/api/jobs", json={"kind": "fit", "dataset_id": dataset["id"], "engine": "cart"}
            )
            running = _wait(client, job.json()["id"], ("running",))
            for _ in range(1200):  # until the engine reports its first step: the model is being learned
                now = client.get(f"/api/jobs/{running['id']}").json()
                if (now["task"] == "fit" and now["done"] >= 1) or now["state"] != "running":
                    break
                time.sleep(0.05)
            assert now["state"] == "running" and now["task"] == "fit", now
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    time.sleep(1.0)  # the worker follows its parent (parent-death signal)
    workers = subprocess.run(["pgrep", "-f", f"run_job.*{running['id']}"], capture_output=True, text=True)
    models_before = {p.name for p in (data / "models").iterdir()}
    with serving(data, "--token-file", str(token_file)) as (_, base, _):  # noqa: SIM117  (the client needs the base URL)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            after = client.get(f"/api/jobs/{running['id']}").json()
            assert after["state"] == "failed"
            assert after["error"] == "interrupted: the server stopped while the job ran; start it again"
            kept = client.get(f"/api/jobs/{finished['id']}").json()
            assert kept["state"] == "succeeded"  # every finished job is listed after the restart
            models = client.get("/api/models").json()
            assert [m["id"] for m in models] == [finished["result"]["model_id"]]
            assert len(client.get("/api/jobs").json()) == 2
    assert workers.stdout.strip() == ""  # no orphaned worker finished the fit after the server died
    assert {p.name for p in (data / "models").iterdir()} == {finished["result"]["model_id"]}
    assert models_before <= {finished["result"]["model_id"]}
    assert not [p for p in data.rglob("*") if p.name.endswith(".tmp")]
