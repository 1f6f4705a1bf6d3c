"""argn leaves no process-wide trace: torch's threads and random state, Faker generators per call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.encoding._base import EncodingOptions
from mirage.encoding.pii import PIICodec, make_faker
from mirage.engines.argn import ArgnSynthesizer
from mirage.schema._column import Column, Kind

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], size=300),
            "size": rng.normal(10, 3, size=300).round(2),
        }
    )


@pytest.fixture(scope="module")
def fitted(frame: pd.DataFrame) -> ArgnSynthesizer:
    model = ArgnSynthesizer(max_epochs=2, seed=0)
    model.fit(frame)
    return model


@pytest.fixture
def three_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _holes(frame: pd.DataFrame) -> pd.DataFrame:
    holes = frame.head(40).copy()
    holes.loc[::3, "size"] = None
    return holes


def _calls(fitted: ArgnSynthesizer, frame: pd.DataFrame, tmp_path: Path) -> dict[str, Callable[[], object]]:
    return {
        "fit": lambda: ArgnSynthesizer(max_epochs=2, seed=1).fit(frame),
        "sample": lambda: fitted.sample(50, seed=1),
        "conditions": lambda: fitted.sample(50, seed=1, conditions={"colour": "red"}),
        "impute": lambda: fitted.impute(_holes(frame), seed=1),
        "log_prob": lambda: fitted.log_prob(frame.head(20)),
        "load": lambda: mirage.load(fitted.save(tmp_path / "m.mirage", force=True)),
    }


@pytest.mark.parametrize("call", ["fit", "sample", "conditions", "impute", "log_prob", "load"])
def test_torch_threads_and_random_state_are_as_before(
    call: str, fitted: ArgnSynthesizer, frame: pd.DataFrame, tmp_path: Path, three_threads: None
) -> None:
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    _calls(fitted, frame, tmp_path)[call]()
    assert torch.get_num_threads() == 3
    assert torch.equal(torch.random.get_rng_state(), state)


def test_threads_are_restored_when_sampling_fails(
    fitted: ArgnSynthesizer, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, three_threads: None
) -> None:
    from mirage.engines.argn import _sampling

    seen: list[int] = []

    def failing(*args: object, **kwargs: object) -> np.ndarray:
        seen.append(torch.get_num_threads())
        torch.rand(3)  # draws from torch's global generator inside the scope
        raise RuntimeError("boom")

    monkeypatch.setattr(_sampling, "_draw", failing)
    state = torch.random.get_rng_state()
    for call in (lambda: fitted.sample(10, seed=1), lambda: fitted.impute(_holes(frame), seed=1)):
        with pytest.raises(RuntimeError, match="boom"):
            call()
    assert seen == [1, 1]  # cpu_threads=1 inside
    assert torch.get_num_threads() == 3
    assert torch.equal(torch.random.get_rng_state(), state)


def test_threads_are_restored_when_training_fails(
    frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, three_threads: None
) -> None:
    from mirage.engines.argn import _training

    def failing(*args: object, **kwargs: object) -> float:
        raise RuntimeError("boom")

    monkeypatch.setattr(_training, "gradient_step", failing)
    state = torch.random.get_rng_state()
    with pytest.raises(RuntimeError, match="boom"):
        ArgnSynthesizer(max_epochs=2, cpu_threads=2).fit(frame)
    assert torch.get_num_threads() == 3
    assert torch.equal(torch.random.get_rng_state(), state)


def test_every_decode_gets_its_own_faker() -> None:
    rng = np.random.default_rng(0)
    assert make_faker("en_US", "p", rng) is not make_faker("en_US", "p", rng)


def test_two_samplings_at_once_do_not_share_a_faker() -> None:
    column = Column("p", Kind.PII, dtype="object", pii_type="person_name")
    codec = PIICodec(column, EncodingOptions())
    codec.fit(pd.Series(["x"] * 20))

    def names(seed: int) -> list[str]:
        rng = np.random.default_rng(seed)
        return [codec.decode({}, 3000, rng, 0).tolist() for _ in range(4)]  # type: ignore[misc]

    alone = {seed: names(seed) for seed in (1, 2)}
    together: dict[int, list[str]] = {}
    workers = [threading.Thread(target=lambda s=seed: together.__setitem__(s, names(s))) for seed in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert together == alone
