"""The REST service with the real app (TestClient runs its lifespan: job runner, worker processes)."""

from __future__ import annotations

import io
import json
import pickle
import re
import sqlite3
import time
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import mirage
from mirage.cli import app as cli_app
from mirage.server import Limits, create_app
from tests.server.conftest import AUTH, TOKEN, table_bytes, wait_for

SOME_ID = "0123456789abcdef"
SKIPPABLE = b"".join(f"{i},{i % 3},{i % 5}\n".encode() for i in range(20))


def _paths(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, the API's from its OpenAPI description, with ids filled in."""
    routes = [
        (method, getattr(route, "path", ""))
        for route in client.app.routes  # type: ignore[attr-defined]
        for method in sorted(getattr(route, "methods", None) or {"GET"})
    ]
    spec = client.get("/openapi.json", headers=AUTH).json()
    routes += [(method.upper(), path) for path, item in spec["paths"].items() for method in item]
    found = []
    for method, path in routes:
        path = re.sub(r"\{fmt\}", "csv", re.sub(r"\{[a-z_]+\}", SOME_ID, path))
        if path and method != "HEAD":
            found.append((method, path if path != "/static" else "/static/htmx.min.js"))
    return found


def test_every_endpoint_but_login_answers_401_without_the_token(client: TestClient) -> None:
    paths = _paths(client)
    assert len(paths) > 25
    for method, path in paths:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Cookie": "mirage_token=x"}):
            answer = client.request(method, path, headers=headers)
            if path == "/login":
                assert answer.status_code in (200, 422), (method, path)
            else:
                assert answer.status_code == 401, (method, path, headers, answer.status_code)
                assert answer.json() == {"error": "this server needs its token: open the login link"}
    # the token opens the same paths (404 for the made-up ids, never 401)
    assert client.get(f"/api/datasets/{SOME_ID}", headers=AUTH).status_code == 404
    assert client.get("/openapi.json", headers=AUTH).status_code == 200
    assert "access-control-allow-origin" not in client.get("/api/jobs", headers=AUTH).headers


def test_login_sets_a_strict_http_only_cookie(client: TestClient) -> None:
    assert client.get("/login?token=wrong-token-0123456789").status_code == 401
    answer = client.get(f"/login?token={TOKEN}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/", cookies={"mirage_token": TOKEN}).status_code == 200


def test_upload_infers_the_schema_and_an_edit_is_checked(client: TestClient, dataset: dict[str, Any]) -> None:
    assert dataset["name"] == "adult.csv" and dataset["rows"] == 300
    assert [d["id"] for d in client.get("/api/datasets", headers=AUTH).json()] == [dataset["id"]]
    url = f"/api/datasets/{dataset['id']}/schema"
    schema = client.get(url, headers=AUTH).json()
    kinds = {c["name"]: c["kind"] for c in schema["columns"]}
    assert kinds["age"] == "numeric" and kinds["sex"] == "categorical"
    schema["columns"][0] = {"name": "age", "kind": "categorical", "dtype": "int64"}
    assert client.put(url, json=schema, headers=AUTH).json()["columns"][0]["kind"] == "categorical"
    assert client.get(url, headers=AUTH).json()["columns"][0]["kind"] == "categorical"
    schema["columns"][0]["kind"] = "colour"
    answer = client.put(url, json=schema, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("column 'age': unknown kind 'colour' (allowed: numeric,")
    schema["columns"] = schema["columns"][1:]
    assert client.put(url, json=schema, headers=AUTH).json() == {
        "error": "column 'age' is in the data but not in the schema"
    }


def test_a_bad_csv_shows_the_clis_one_line_error(client: TestClient, tmp_path: Path) -> None:
    bad = b"a,b,c\n1,2,3\n4,5\n6,7,8\n"
    answer = client.post("/api/datasets", files={"file": ("bad.csv", bad)}, headers=AUTH)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error.startswith("'bad.csv' line 3 has 2 fields, but the header has 3")
    (tmp_path / "bad.csv").write_bytes(bad)
    cli = CliRunner().invoke(cli_app, ["schema", str(tmp_path / "bad.csv")])
    assert " ".join(cli.output.split()) == "error: " + error.replace("'bad.csv'", f"'{tmp_path / 'bad.csv'}'")
    assert client.get("/api/datasets", headers=AUTH).json() == []
    assert list((tmp_path / "data" / "datasets").iterdir()) == []
    skipped = client.post(
        "/api/datasets?on_bad_lines=skip", files={"file": ("bad.csv", bad + SKIPPABLE)}, headers=AUTH
    )
    assert skipped.status_code == 201 and skipped.json()["rows"] == 22  # the malformed line left out


def test_a_path_in_a_file_name_stays_inside_the_data_directory(client: TestClient, tmp_path: Path) -> None:
    for name in ("../../../escaped.csv", "..\\..\\escaped.csv", "/etc/escaped.csv", ".hidden.csv"):
        answer = client.post("/api/datasets", files={"file": (name, table_bytes(50))}, headers=AUTH)
        assert answer.status_code == 201, answer.text
        stored = answer.json()["name"]
        assert "/" not in stored and "\\" not in stored and not stored.startswith(".")
    assert not list(tmp_path.glob("*.csv")) and not list(tmp_path.parent.glob("escaped.csv"))
    files = [p for p in (tmp_path / "data" / "datasets").rglob("*.csv")]
    assert len(files) == 4
    refused = client.post("/api/datasets", files={"file": ("model.pkl", b"x")}, headers=AUTH)
    assert refused.status_code == 400 and "unsupported type .pkl" in refused.json()["error"]


def test_ids_and_database_paths_cannot_leave_the_data_directory(client: TestClient, tmp_path: Path) -> None:
    for path in (
        "/api/datasets/..%2F..%2Fetc%2Fpasswd",
        "/api/models/../../mirage.db/file",
        "/api/jobs/%2e%2e",
    ):
        answer = client.get(path, headers=AUTH)
        assert answer.status_code in (404, 422), path
        assert "error" in answer.json()
    outside = tmp_path / "outside.db"
    with sqlite3.connect(outside) as db:
        db.execute("create table t (a integer)")
    for url in (f"sqlite:///{outside}", "sqlite:///../outside.db"):
        answer = client.post("/api/datasets/database", json={"url": url}, headers=AUTH)
        assert answer.status_code == 400
        assert "is outside the data directory" in answer.json()["error"]


def test_a_sqlite_table_inside_the_data_directory_is_read(client: TestClient, tmp_path: Path) -> None:
    frame = pd.read_csv(io.BytesIO(table_bytes(60)))
    with sqlite3.connect(tmp_path / "data" / "shop.db") as db:
        frame.to_sql("people", db, index=False)
    answer = client.post("/api/datasets/database", json={"url": "sqlite:///shop.db"}, headers=AUTH)
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "people.parquet" and answer.json()["rows"] == 60
    missing = client.post(
        "/api/datasets/database", json={"url": "sqlite:///shop.db", "table": "x"}, headers=AUTH
    )
    assert missing.json() == {"error": "table 'x' is not in the database (tables: people)"}


def test_an_oversized_upload_is_refused_with_413(client: TestClient, tmp_path: Path) -> None:
    big = b"a,b\n" + b"1,2\n" * 600_000  # 2.4 MB, the limit is 2 MB
    answer = client.post("/api/datasets", files={"file": ("big.csv", big)}, headers=AUTH)
    assert answer.status_code == 413
    assert answer.json() == {"error": "the upload is over the server's limit of 2,000,000 bytes"}

    def chunks() -> Any:  # no Content-Length: the guard counts the bytes as they come
        yield b"--b\r\nContent-Disposition: form-data; name=file; filename=big.csv\r\n\r\n"
        for _ in range(30):
            yield b"1,2\n" * 25_000
        yield b"\r\n--b--\r\n"

    answer = client.post(
        "/api/datasets", content=chunks(), headers={**AUTH, "content-type": "multipart/form-data; boundary=b"}
    )
    assert answer.status_code == 413
    assert client.get("/api/datasets", headers=AUTH).json() == []
    assert list((tmp_path / "data" / "datasets").iterdir()) == []


def test_a_zip_bomb_workbook_is_refused_before_it_is_read(tmp_path: Path) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 50_000_000)  # 50 MB of zeros in ~50 kB
    assert len(bomb.getvalue()) < 100_000
    app = create_app(tmp_path / "data", TOKEN, limits=Limits(expanded_bytes=10_000_000))
    with TestClient(app) as client:
        answer = client.post("/api/datasets", files={"file": ("bomb.xlsx", bomb.getvalue())}, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "'bomb.xlsx' expands to 50,000,000 bytes, over the server's limit of 10,000,000 bytes"
    }


def test_a_parquet_file_that_expands_too_far_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "zeros.parquet"
    pd.DataFrame({"a": [0] * 2_000_000}).to_parquet(path, compression="zstd", use_dictionary=False)
    assert path.stat().st_size < 100_000
    app = create_app(tmp_path / "data", TOKEN, limits=Limits(expanded_bytes=10_000_000))
    with TestClient(app) as client:
        answer = client.post(
            "/api/datasets", files={"file": ("zeros.parquet", path.read_bytes())}, headers=AUTH
        )
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("'zeros.parquet' expands to 16,")
    assert answer.json()["error"].endswith("bytes, over the server's limit of 10,000,000 bytes")


def test_a_pickle_model_file_is_refused_and_runs_nothing(client: TestClient, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> Any:
            return (Path.touch, (marker,))

    for body in (pickle.dumps(Payload()), b"PK\x03\x04" + pickle.dumps(Payload())):
        answer = client.post("/api/models", files={"file": ("model.mirage", body)}, headers=AUTH)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"].startswith("model file model.mirage")
        assert "\n" not in answer.json()["error"]
    assert not marker.exists()
    assert client.get("/api/models", headers=AUTH).json() == []
    assert list((tmp_path / "data" / "models").iterdir()) == []


def test_fit_streams_progress_then_sample_and_download(
    client: TestClient, dataset: dict[str, Any], tmp_path: Path
) -> None:
    job = client.post(
        "/api/jobs", json={"kind": "fit", "dataset_id": dataset["id"], "engine": "cart"}, headers=AUTH
    )
    assert job.status_code == 202 and job.json()["state"] == "queued"
    events = []
    with client.stream("GET", f"/api/jobs/{job.json()['id']}/events", headers=AUTH) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    assert events[-1] == ("end", {})
    last = events[-2][1]
    assert last["state"] == "succeeded" and last["progress"] == 1.0
    assert any(e["state"] == "running" for n, e in events[:-1])
    model_id = last["result"]["model_id"]
    model = client.get(f"/api/models/{model_id}", headers=AUTH).json()
    assert model["engine"] == "cart" and model["report"] is False
    assert [m["id"] for m in client.get("/api/models", headers=AUTH).json()] == [model_id]

    file = client.get(f"/api/models/{model_id}/file", headers=AUTH)
    assert file.status_code == 200
    loaded = mirage.load(file.content)
    assert loaded.schema_.names == dataset["columns"]
    again = client.post("/api/models", files={"file": ("copy.mirage", file.content)}, headers=AUTH)
    assert again.status_code == 201 and again.json()["engine"] == "cart"

    sample = client.post(
        "/api/jobs",
        json={"kind": "sample", "model_id": model_id, "rows": 40, "seed": 3, "conditions": {"sex": "Female"}},
        headers=AUTH,
    ).json()
    done = wait_for(client, sample["id"])
    assert done["state"] == "succeeded", done
    csv = pd.read_csv(io.BytesIO(client.get(f"/api/jobs/{sample['id']}/files/csv", headers=AUTH).content))
    parquet = pd.read_parquet(
        io.BytesIO(client.get(f"/api/jobs/{sample['id']}/files/parquet", headers=AUTH).content)
    )
    assert len(csv) == len(parquet) == 40 and set(csv["sex"]) == {"Female"}
    assert csv.equals(
        loaded.sample(40, seed=3, conditions={"sex": "Female"}).pipe(
            lambda f: pd.read_csv(io.StringIO(f.to_csv(index=False)))
        )
    )
    assert client.get(f"/api/models/{model_id}/report", headers=AUTH).status_code == 404


def test_a_european_csv_with_unicode_names_comes_back_in_its_own_dialect(client: TestClient) -> None:
    cities = ["München", "Köln", "Düsseldorf"]
    lines = ["kunde;größe;betrag €;datum;stadt"] + [
        f"K{i:04d};1,{50 + i % 40:02d};{i * 37 % 900},{i % 100:02d};{i % 28 + 1:02d}.0{i % 9 + 1}.2024;"
        f"{cities[i % 3]}"
        for i in range(300)
    ]
    upload = client.post(
        "/api/datasets", files={"file": ("kunden.csv", ("\n".join(lines) + "\n").encode())}, headers=AUTH
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["columns"] == ["kunde", "größe", "betrag €", "datum", "stadt"]
    schema = client.get(f"/api/datasets/{upload.json()['id']}/schema", headers=AUTH).json()
    kinds = {c["name"]: (c["kind"], c.get("datetime_format")) for c in schema["columns"]}
    assert kinds["größe"][0] == "numeric" and kinds["datum"] == ("datetime", "%d.%m.%Y")
    fit = client.post(
        "/api/jobs", json={"kind": "fit", "dataset_id": upload.json()["id"], "engine": "cart"}, headers=AUTH
    ).json()
    done = wait_for(client, fit["id"])
    assert done["state"] == "succeeded", done
    sample = client.post(
        "/api/jobs",
        json={
            "kind": "sample",
            "model_id": done["result"]["model_id"],
            "rows": 30,
            "seed": 1,
            "conditions": {"stadt": "Köln"},
        },
        headers=AUTH,
    ).json()
    assert wait_for(client, sample["id"])["state"] == "succeeded"
    text = client.get(f"/api/jobs/{sample['id']}/files/csv", headers=AUTH).content.decode("utf-8")
    assert text.splitlines()[0] == "kunde;größe;betrag €;datum;stadt"
    frame = pd.read_csv(io.StringIO(text), sep=";", decimal=",")
    assert len(frame) == 30 and set(frame["stadt"]) == {"Köln"} and frame["größe"].between(1.4, 2.0).all()
    assert pd.to_datetime(frame["datum"], format="%d.%m.%Y").notna().all()


def test_job_requests_are_checked(client: TestClient, dataset: dict[str, Any]) -> None:
    answer = client.post("/api/jobs", json={"kind": "fit"}, headers=AUTH)
    assert answer.status_code == 400 and answer.json() == {"error": "a fit job needs dataset_id"}
    answer = client.post("/api/jobs", json={"kind": "fit", "dataset_id": SOME_ID}, headers=AUTH)
    assert answer.status_code == 404 and answer.json() == {"error": f"no dataset {SOME_ID}"}
    answer = client.post(
        "/api/jobs", json={"kind": "fit", "dataset_id": dataset["id"], "engine": "x"}, headers=AUTH
    )
    assert answer.status_code == 422 and answer.json()["error"].startswith("body.engine: Input should be")
    answer = client.post("/api/jobs", json={"kind": "sample", "model_id": SOME_ID, "rows": 3}, headers=AUTH)
    assert answer.status_code == 404


def test_cancel_and_a_killed_worker_fail_only_their_job(client: TestClient, tmp_path: Path) -> None:
    big = pd.read_csv(mirage.__file__.replace("__init__.py", "demo/adult_sample.csv"))
    body = pd.concat([big] * 4, ignore_index=True).to_csv(index=False).encode()
    dataset = client.post("/api/datasets", files={"file": ("wide.csv", body)}, headers=AUTH).json()
    fit = {"kind": "fit", "dataset_id": dataset["id"], "engine": "cart"}
    first = client.post("/api/jobs", json=fit, headers=AUTH).json()
    cancelled = client.post(f"/api/jobs/{first['id']}/cancel", headers=AUTH).json()
    assert cancelled["state"] == "cancelled"
    assert client.post(f"/api/jobs/{first['id']}/cancel", headers=AUTH).json() == {
        "error": f"job {first['id']} has cancelled already"
    }
    second = client.post("/api/jobs", json=fit, headers=AUTH).json()
    runner = client.app.state.service.runner  # type: ignore[attr-defined]
    for _ in range(600):
        if second["id"] in runner._running:
            break
        time.sleep(0.05)
    runner._running[second["id"]].kill()
    failed = wait_for(client, second["id"])
    assert failed["state"] == "failed"
    assert failed["error"] == "the worker process ended unexpectedly (killed by signal 9)"
    assert client.get("/api/models", headers=AUTH).json() == []
    assert client.get("/api/jobs", headers=AUTH).status_code == 200  # the server is still up
    assert not list((tmp_path / "data" / "models").iterdir())


def test_the_openapi_description_lists_every_resource(client: TestClient) -> None:
    spec = client.get("/openapi.json", headers=AUTH).json()
    paths = set(spec["paths"])
    for path in (
        "/api/datasets",
        "/api/datasets/{dataset_id}/schema",
        "/api/jobs",
        "/api/jobs/{job_id}/events",
        "/api/jobs/{job_id}/cancel",
        "/api/models/{model_id}/file",
        "/api/models/{model_id}/report",
    ):
        assert path in paths
    assert not any(not p.startswith("/api/") for p in paths)  # the pages are not part of the API


@pytest.mark.slow
def test_report_job_cancel_while_running_and_a_failing_sample(
    client: TestClient, model: dict[str, Any], dataset: dict[str, Any], tmp_path: Path
) -> None:
    body = {"kind": "report", "model_id": model["id"], "target": "income"}
    job = client.post("/api/jobs", json=body, headers=AUTH).json()
    done = wait_for(client, job["id"], timeout=300)
    assert done["state"] == "succeeded", done
    assert client.get(f"/api/models/{model['id']}", headers=AUTH).json()["report"] is True
    page = client.get(f"/api/models/{model['id']}/report", headers=AUTH)
    assert page.headers["content-type"].startswith("text/html") and "plotly" in page.text.lower()
    assert "needs a holdout and a target column" not in page.text  # the utility scores were measured
    body["target"] = "nope"
    failed = wait_for(client, client.post("/api/jobs", json=body, headers=AUTH).json()["id"])
    assert failed["error"].startswith("--target 'nope' is not a column")  # the CLI's words

    lines = b"a,b,c\n1,2,3\n4,5\n" + SKIPPABLE
    skipping = client.post("/api/datasets?on_bad_lines=skip", files={"file": ("s.csv", lines)}, headers=AUTH)
    fit = {"kind": "fit", "dataset_id": skipping.json()["id"], "engine": "cart"}
    fitted = wait_for(client, client.post("/api/jobs", json=fit, headers=AUTH).json()["id"])
    assert fitted["state"] == "succeeded", fitted  # the worker reads the file as the upload was read

    bad = {"kind": "sample", "model_id": model["id"], "rows": 5, "conditions": {"nope": 1}}
    failed = wait_for(client, client.post("/api/jobs", json=bad, headers=AUTH).json()["id"])
    assert failed["state"] == "failed" and "'nope'" in failed["error"] and "\n" not in failed["error"]

    fit = {"kind": "fit", "dataset_id": dataset["id"], "engine": "cart"}
    running = client.post("/api/jobs", json=fit, headers=AUTH).json()
    for _ in range(600):
        if client.get(f"/api/jobs/{running['id']}", headers=AUTH).json()["state"] == "running":
            break
        time.sleep(0.05)
    cancelled = client.post(f"/api/jobs/{running['id']}/cancel", headers=AUTH).json()
    assert cancelled["state"] == "cancelled"
    time.sleep(1.0)
    assert wait_for(client, running["id"])["state"] == "cancelled"  # the killed worker does not overwrite it
    kept = {model["id"], fitted["result"]["model_id"]}
    assert {m["id"] for m in client.get("/api/models", headers=AUTH).json()} == kept
    assert {p.name for p in (tmp_path / "data" / "models").iterdir()} == kept


def test_an_auto_fit_records_the_engine_auto_picked(client: TestClient, dataset: dict[str, Any]) -> None:
    job = client.post("/api/jobs", json={"kind": "fit", "dataset_id": dataset["id"]}, headers=AUTH).json()
    done = wait_for(client, job["id"])
    assert done["state"] == "succeeded", done
    assert done["result"]["engine"] in ("bayesnet", "gmm")
    model = client.get(f"/api/models/{done['result']['model_id']}", headers=AUTH).json()
    assert model["engine"] == done["result"]["engine"] and f"({model['engine']})" in model["name"]
    loaded = mirage.load(client.get(f"/api/models/{model['id']}/file", headers=AUTH).content)
    assert loaded.name == model["engine"] and "detection_auc" in loaded.training_["auto"]
