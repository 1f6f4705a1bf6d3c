"""The token domain: what the columns of a token matrix are, for any engine that models tokens."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import Domain, TableEncoder, Token
from mirage.encoding.datetime import date_subcolumns
from mirage.encoding.discretise import Discretiser
from mirage.errors import ModelFileError, OptionError
from mirage.schema import Kind, infer_schema


def fitted(frame: pd.DataFrame) -> tuple[Discretiser, dict[str, np.ndarray]]:
    schema = infer_schema(frame)
    encoder = TableEncoder(schema).fit(frame)
    parts = encoder.encode(frame)
    dates = date_subcolumns(encoder.subcolumns, {c.name for c in schema if c.kind is Kind.DATETIME})
    return Discretiser(min_count=5).fit(parts, encoder.subcolumns, dates=dates), parts


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], n),
            "amount": np.round(rng.lognormal(3, 1, n), 2),
            "seen": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 60 * 86_400, n), unit="s"),
        }
    )


def test_the_discretiser_describes_its_token_matrix(table: pd.DataFrame) -> None:
    disc, parts = fitted(table)
    domain = disc.domain
    tokens = disc.encode(parts)
    assert tokens.shape == (len(table), len(domain))
    assert (tokens.max(axis=0) < np.array(domain.cardinalities)).all() and tokens.min() >= 0
    assert domain.columns == ("colour", "amount", "seen")
    by_column = domain.by_column()
    assert list(by_column) == ["colour", "amount", "seen"]
    assert [n for names in by_column.values() for n in names] == list(domain.names)
    seen = by_column["seen"]
    assert seen[0] == "seen::value@day#bin" and seen.index("seen::value#weekday") < seen.index(
        "seen::time#bin"  # the time of day is a sub-column of its own (mirage.encoding.datetime)
    )
    groups = domain.groups
    assert [domain.columns[g] for g in groups] == [t.column for t in domain]
    assert domain["seen::value#weekday"] == Token("seen::value#weekday", "seen::value", "seen", "weekday", 7)
    assert domain[domain.index("seen::value#weekday")].role == "weekday"


def test_project_and_marginal_sizes(table: pd.DataFrame) -> None:
    domain = fitted(table)[0].domain
    weekday, colour = "seen::value#weekday", domain.by_column()["colour"][-1]
    pair = domain.project([weekday, colour])
    assert pair.names == (colour, weekday)  # the domain's order, not the order asked
    assert pair.size() == domain.size([colour, weekday]) == domain[colour].cardinality * 7
    assert domain.size([]) == 1 and len(domain.project([])) == 0
    assert domain.size() == int(np.prod(np.array(domain.cardinalities, dtype=object)))
    with pytest.raises(OptionError, match="no token 'nope'"):
        domain.project(["nope"])


def test_a_domain_round_trips_through_json(table: pd.DataFrame) -> None:
    domain = fitted(table)[0].domain
    again = Domain.from_dict(json.loads(json.dumps(domain.to_dict())))
    assert again == domain and hash(again) == hash(domain)


def test_a_bad_domain_is_a_clear_error() -> None:
    token = Token("a::code#code", "a::code", "a", "code", 3)
    with pytest.raises(OptionError, match="appears twice"):
        Domain((token, token))
    with pytest.raises(OptionError, match="cardinality 0"):
        Domain((Token("b#code", "b", "b", "code", 0),))
    data = Domain((token,)).to_dict()
    data["tokens"][0]["role"] = "colour"
    with pytest.raises(ModelFileError, match=r"tokens\.0\.role: must be one of"):
        Domain.from_dict(data)
    with pytest.raises(ModelFileError, match="tokens: expected a list"):
        Domain.from_dict({"tokens": 3})
