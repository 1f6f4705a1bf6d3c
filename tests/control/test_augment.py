"""Augmentation and tails: the minority share as asked, synthetic rows flagged; rows past the quantiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.control import sample_tails
from mirage.control._augment import rows_to_add
from mirage.engines import ENGINES, Synthesizer
from mirage.errors import DataError, OptionError
from tests.conformance import FULL

ENGINE_NAMES = sorted(ENGINES)


def table(rows: int = 700) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    fraud = rng.random(rows) < 0.06
    return pd.DataFrame(
        {
            "amount": np.round(rng.gamma(2.0, 40.0, rows) * np.where(fraud, 3.0, 1.0), 2),
            "channel": rng.choice(["web", "shop", "phone"], rows),
            "is_fraud": fraud,
        }
    )


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def model(request: pytest.FixtureRequest) -> Synthesizer:
    return ENGINES[request.param](**FULL.get(request.param, {})).fit(table())


def test_the_minority_share_is_met(model: Synthesizer) -> None:
    real = table()
    out = mirage.augment(real, model, target="is_fraud", minority_share=0.3, seed=1)
    added = out[out["_synthetic"]]
    assert out["_synthetic"].dtype == bool
    pd.testing.assert_frame_equal(out.iloc[: len(real)].drop(columns="_synthetic"), real)
    assert added["is_fraud"].astype(bool).all()
    share = out["is_fraud"].astype(bool).mean()
    assert abs(share - 0.3) <= 0.5 / len(out)
    assert len(added) == rows_to_add(len(real), int(real["is_fraud"].sum()), 0.3)
    again = mirage.augment(real, model, target="is_fraud", minority_share=0.3, seed=1)
    pd.testing.assert_frame_equal(out, again)


def test_rows_to_add_by_hand() -> None:
    assert rows_to_add(100, 10, 0.5) == 80  # 90 / 180
    assert rows_to_add(100, 10, 0.3) == 29  # (10 + 29) / 129 = 0.3023; 28 gives 0.2969
    assert rows_to_add(10, 1, 0.25) == 2  # 3 / 12


def test_the_class_can_be_named_and_the_flag_renamed() -> None:
    real = table()
    model = ENGINES["cart"]().fit(real)
    out = mirage.augment(
        real, model, target="channel", minority="phone", minority_share=0.5, seed=2, flag="made"
    )
    assert out["channel"].eq("phone").sum() * 2 in (len(out), len(out) - 1, len(out) + 1)
    assert out.loc[out["made"], "channel"].eq("phone").all()


def test_bad_augmentations_are_named() -> None:
    real = table()
    model = ENGINES["copula"]().fit(real)
    with pytest.raises(OptionError, match="already makes up 0.9.* nothing to add"):
        mirage.augment(real, model, target="is_fraud", minority=False, minority_share=0.5)
    with pytest.raises(OptionError, match="between 0 and 1"):
        mirage.augment(real, model, target="is_fraud", minority_share=1.0)
    with pytest.raises(OptionError, match="column 'amount' is numeric"):
        mirage.augment(real, model, target="amount", minority_share=0.3)
    with pytest.raises(DataError, match=r"lacks the model's column\(s\) \['channel'\]"):
        mirage.augment(real.drop(columns="channel"), model, target="is_fraud", minority_share=0.3)
    with pytest.raises(OptionError, match="flag column 'amount'"):
        mirage.augment(real, model, target="is_fraud", minority_share=0.3, flag="amount")


@pytest.mark.parametrize("name", ["cart", "copula"])
def test_tails_lie_past_the_quantiles(name: str) -> None:
    real = table()
    model = ENGINES[name](**FULL.get(name, {})).fit(real)
    synth = sample_tails(model, 400, {"amount": 0.05}, seed=3)
    pilot = model.sample(20_000, seed=5)["amount"]
    low, high = pilot.quantile(0.05), pilot.quantile(0.95)
    assert len(synth) == 400
    assert (synth["amount"] <= low * 1.05).sum() == 200 and (synth["amount"] >= high * 0.95).sum() == 200
    with pytest.raises(OptionError, match="column 'channel' is categorical; tails need a numeric"):
        sample_tails(model, 10, {"channel": 0.05})
    with pytest.raises(OptionError, match="must be above 0 and below 0.5, got 0.6"):
        sample_tails(model, 10, {"amount": 0.6})


@pytest.mark.parametrize(
    "keys",
    [np.arange(10_001, 10_701), [f"C-{i:05d}" for i in range(700)], [f"{i:04d}-AB" for i in range(3, 703)]],
    ids=["integers", "template", "pattern"],
)
def test_the_added_rows_get_keys_no_real_row_holds(keys: object) -> None:
    real = table().assign(customer_id=keys)[["customer_id", "amount", "channel", "is_fraud"]]
    schema = mirage.infer_schema(real)
    assert schema["customer_id"].kind.value == "identifier"
    model = ENGINES["cart"]().fit(real, schema=schema)
    out = mirage.augment(real, model, target="is_fraud", minority_share=0.3, seed=1)
    assert out["customer_id"].is_unique
    added = out.loc[out["_synthetic"], "customer_id"]
    assert not added.isin(real["customer_id"]).any()
    assert out["customer_id"].dtype == real["customer_id"].dtype
    pd.testing.assert_frame_equal(
        out, mirage.augment(real, model, target="is_fraud", minority_share=0.3, seed=1)
    )
