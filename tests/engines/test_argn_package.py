"""The argn package's parts: the network as an nn.Module, one partial-row sampler, model files kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.engines.argn import ArgnSynthesizer

torch = pytest.importorskip("torch")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def small() -> ArgnSynthesizer:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], size=400),
            "size": rng.normal(10, 3, size=400).round(2),
            "count": rng.integers(0, 5, size=400),
        }
    )
    fitted = ArgnSynthesizer(max_epochs=3, seed=0)
    fitted.fit(frame)
    return fitted


def test_the_network_is_a_module_whose_parameters_the_optimiser_trains(small: ArgnSynthesizer) -> None:
    from mirage.engines.argn._training import TrainingSettings, gradient_step

    network = small._new_network(1, 0.0)
    assert isinstance(network, torch.nn.Module)
    names = {name for name, _ in network.named_parameters()}
    assert names == set(network.state_dict())  # every weight of the model file is trained, and only those
    tokens = torch.as_tensor(small.discretiser_.encode(small.encoder_.encode(small.sample(64, seed=1))))
    optimizer = torch.optim.AdamW(network.parameters(), lr=0.1)
    before = [p.detach().clone() for p in network.parameters()]
    network.train(True)
    settings = TrainingSettings(1.0, 1, 1, None, 0.1, 0.0, 0.1, 0.5, 0)
    gradient_step(network, optimizer, tokens, settings.schema_order_share)
    assert all(not torch.equal(b, p) for b, p in zip(before, network.parameters(), strict=True))


def test_forward_gives_each_tokens_log_likelihood(small: ArgnSynthesizer) -> None:
    network = small.network_
    assert network is not None
    tokens = torch.as_tensor(small.discretiser_.encode(small.encoder_.encode(small.sample(50, seed=2))))
    mask = network.schema_mask(tokens.shape[0])
    with torch.inference_mode():
        per_token = network(tokens, mask)
    assert per_token.shape == tokens.shape
    assert bool((per_token <= 0).all())
    # a token's log-likelihood is the log of its probability among its column's codes
    j = 0
    with torch.inference_mode():
        alternatives = []
        for code in range(network.cardinalities[j]):
            other = tokens.clone()
            other[:, j] = code
            alternatives.append(network(other, mask)[:, j])
    total = torch.logsumexp(torch.stack(alternatives), dim=0)
    torch.testing.assert_close(total, torch.zeros_like(total), atol=1e-4, rtol=0)
    np.testing.assert_allclose(
        per_token.sum(dim=1).double().numpy(), small.log_prob(small.sample(50, seed=2)), rtol=1e-5
    )


def test_conditions_and_imputation_share_one_partial_row_sampler(
    small: ArgnSynthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mirage.engines.argn import _engine, _sampling

    holes = small.sample(20, seed=3)
    holes.loc[::2, "size"] = None
    calls: list[int] = []

    def counting(*args: object, **kwargs: object) -> None:
        calls.append(1)
        _sampling.fill_tokens(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_engine, "fill_tokens", counting)
    small.sample(20, seed=1)
    small.sample(20, seed=1, conditions={"colour": "red"})
    small.impute(holes, seed=1)
    assert len(calls) == 3


def test_the_partial_row_sampler_keeps_known_cells_and_fills_the_others(small: ArgnSynthesizer) -> None:
    from mirage.engines.argn._sampling import fill_tokens, sampling_order

    network = small.network_
    assert network is not None
    disc = small.discretiser_
    tokens = disc.encode(small.encoder_.encode(small.sample(300, seed=4)))
    known = np.random.default_rng(0).random(tokens.shape) < 0.5
    known[:10] = True  # complete rows draw nothing
    order = sampling_order(disc.domain.groups, set())
    out, again = tokens.copy(), tokens.copy()
    fill_tokens(network, out, known, order, {}, 1.0, np.random.default_rng(1), 1)
    np.testing.assert_array_equal(out[known], tokens[known])
    assert (out[~known] != tokens[~known]).any()
    fill_tokens(network, again, known, order, {}, 1.0, np.random.default_rng(1), 1)
    np.testing.assert_array_equal(out, again)


def test_a_model_file_written_before_the_package_samples_the_same_rows() -> None:
    # written by the single-module argn (ArgnSynthesizer(seed=0, max_epochs=5) on tests/fixtures/titanic.csv)
    model = mirage.load(FIXTURES / "argn_titanic_before_split.mirage")
    assert isinstance(model, ArgnSynthesizer)
    expected = pd.read_csv(FIXTURES / "argn_titanic_before_split.csv")
    got = _round_trip(model.sample(200, seed=1))
    pd.testing.assert_frame_equal(got, expected)
    conditions = {"sex": "female", "pclass": [1, 2]}
    # rewritten when conditioned rows began to return the values the conditions were tested on (the
    # same rows as the single-module argn drew, with another draw of age's rounding), and again when
    # conditions began to follow the model's schema-order joint (issue 15: other rows, by design)
    expected = pd.read_csv(FIXTURES / "argn_titanic_before_split_cond.csv")
    pd.testing.assert_frame_equal(_round_trip(model.sample(100, seed=2, conditions=conditions)), expected)


def test_a_model_file_written_before_the_package_is_written_back_with_the_same_arrays() -> None:
    from safetensors.numpy import load

    from mirage._model_archive import read_archive

    path = FIXTURES / "argn_titanic_before_split.mirage"
    before = load(read_archive(path, arrays=True)[1])
    after = mirage.load(path).get_state()[1]
    assert any(key.startswith("engine.net.head_weight.") for key in after)
    assert sorted(after) == sorted(before)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


def _round_trip(frame: pd.DataFrame) -> pd.DataFrame:
    import io

    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))
