"""PIICodec: Faker values of the right type, deterministic, never a training value."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from faker import Faker
from stdnum import iban, luhn

from mirage.encoding._base import EncodingOptions, missing_subcolumn
from mirage.encoding.pii import FAKER_METHODS, PIICodec
from mirage.errors import MirageError
from mirage.schema._column import PII_TYPES, Column, Kind

EMAIL_RE = re.compile(r"^[a-z0-9._]+@example\.(com|org|net)$")


def _rng() -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([7, 0]))


def _codec(pii_type: str, values: pd.Series, locale: str | None = None, name: str = "p") -> PIICodec:
    column = Column(name, Kind.PII, dtype=str(values.dtype), pii_type=pii_type, locale=locale)
    codec = PIICodec(column, EncodingOptions())
    codec.fit(values)
    return codec


def _training(method: str, n: int = 500, seed: int = 11) -> pd.Series:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return pd.Series([str(getattr(fake, method)()) for _ in range(n)])


def test_every_pii_type_has_a_generator() -> None:
    assert set(FAKER_METHODS) == set(PII_TYPES)


@pytest.mark.parametrize("pii_type", PII_TYPES)
def test_decode_shapes_dtypes_and_determinism(pii_type: str) -> None:
    codec = _codec(pii_type, pd.Series(["x", "y"]))
    assert codec.subcolumns == []
    assert codec.encode(pd.Series(["x", "y"])) == {}
    out = codec.decode({}, 50, _rng(), 0)
    assert out.dtype == object
    assert len(out) == 50
    assert out.name == "p"
    assert all(isinstance(v, str) and v for v in out)
    assert out.tolist() == codec.decode({}, 50, _rng(), 0).tolist()
    assert out.tolist() != codec.decode({}, 50, np.random.default_rng(1), 0).tolist()


def test_values_are_valid_and_never_training_values() -> None:
    emails = pd.Series([*_training("free_email").tolist(), *_training("email", seed=12).tolist()])
    cards = _training("credit_card_number")
    ibans = _training("iban")
    for pii_type, training in (("email", emails), ("credit_card", cards), ("iban", ibans)):
        out = _codec(pii_type, training).decode({}, 3000, _rng(), 0)
        assert not set(out) & set(training), pii_type
    out_emails = _codec("email", emails).decode({}, 3000, _rng(), 0)
    assert all(EMAIL_RE.match(v) for v in out_emails)
    assert out_emails.nunique() > 0.99 * len(out_emails)
    assert all(luhn.is_valid(v) for v in _codec("credit_card", cards).decode({}, 200, _rng(), 0))
    assert all(iban.is_valid(v) for v in _codec("iban", ibans).decode({}, 200, _rng(), 0))


def test_large_decode_uses_a_pool() -> None:
    codec = _codec("person_name", pd.Series(["Ann Lee"]))
    out = codec.decode({}, 60_000, _rng(), 0)
    assert len(out) == 60_000
    assert out.nunique() > 1000
    emails = _codec("email", pd.Series(["a@b.com"])).decode({}, 60_000, _rng(), 0)
    assert emails.nunique() > 0.99 * 60_000


def test_locale_is_used() -> None:
    codec = _codec("iban", pd.Series(["x"]), locale="de_DE")
    assert all(v.startswith("DE") for v in codec.decode({}, 20, _rng(), 0))
    default = PIICodec(Column("p", Kind.PII, pii_type="iban"), EncodingOptions(locale="fr_FR"))
    default.fit(pd.Series(["x"]))
    assert all(v.startswith("FR") for v in default.decode({}, 20, _rng(), 0))


def test_unknown_locale_names_the_column() -> None:
    codec = _codec("city", pd.Series(["x"]), locale="xx_YY", name="home_city")
    with pytest.raises(MirageError, match="home_city"):
        codec.decode({}, 3, _rng(), 0)


def test_missing_rate_is_reproduced() -> None:
    values = pd.Series(["a@b.com", None, "c@d.com", None], dtype=object)
    codec = _codec("email", values)
    assert codec.subcolumns == [missing_subcolumn("p")]
    parts = codec.encode(values)
    assert parts["p::missing"].dtype == np.int64
    assert parts["p::missing"].tolist() == [0, 1, 0, 1]
    codes = (np.random.default_rng(3).random(5000) < 0.25).astype(np.int64)
    out = codec.decode({"p::missing": codes}, 5000, _rng(), 0)
    assert out.isna().to_numpy().tolist() == (codes == 1).tolist()
    assert out.isna().mean() == pytest.approx(codes.mean())


def test_state_round_trip() -> None:
    codec = _codec("phone_number", pd.Series(["555-1234", None], dtype=object), locale="en_GB")
    state, arrays = codec.get_state()
    fresh = PIICodec(Column("p", Kind.PII, pii_type="email"), EncodingOptions())
    fresh.set_state(json.loads(json.dumps(state)), arrays)
    parts = {"p::missing": np.array([0, 0, 1, 0])}
    assert fresh.subcolumns == codec.subcolumns
    pd.testing.assert_series_equal(fresh.decode(parts, 4, _rng(), 0), codec.decode(parts, 4, _rng(), 0))


def test_card_numbers_held_as_integers_come_back_as_card_numbers() -> None:
    rng = np.random.default_rng(0)
    bodies = ["5" + "".join(str(d) for d in rng.integers(0, 10, size=14)) for _ in range(300)]
    cards = pd.Series([int(b + luhn.calc_check_digit(b)) for b in bodies], dtype="int64")
    codec = _codec("credit_card", cards)
    out = codec.decode({}, 400, _rng(), 0)
    assert out.dtype == np.int64
    texts = out.astype(str)
    assert (texts.str.len() == 16).all()
    assert texts.map(luhn.is_valid).all()
    assert not set(out) & set(cards)
    state, arrays = codec.get_state()
    again = PIICodec(codec.column, EncodingOptions())
    again.set_state(json.loads(json.dumps(state)), arrays)
    pd.testing.assert_series_equal(again.decode({}, 400, _rng(), 0), out)


def test_national_ids_held_as_integers_pass_their_scheme() -> None:
    from stdnum.nl import bsn

    fake = Faker("nl_NL")
    fake.seed_instance(5)
    ids = pd.Series([int(fake.ssn()) for _ in range(300)], dtype="int64")
    values = pd.concat([ids, pd.Series([None] * 30)], ignore_index=True).astype("Int64")
    codec = _codec("national_id", values)
    out = codec.decode(codec.encode(values), len(values), _rng(), 0)
    assert out.dtype == "Int64"
    assert out.isna().sum() == 30
    assert out.dropna().astype(str).str.zfill(9).map(bsn.is_valid).all()


def test_phone_numbers_held_as_integers_keep_their_country_code() -> None:
    rng = np.random.default_rng(1)
    phones = pd.Series(4915_100_000_000 + rng.choice(99_999_999, size=300, replace=False), dtype="int64")
    out = _codec("phone_number", phones).decode({}, 200, _rng(), 0)
    assert out.dtype == np.int64
    assert out.astype(str).str.fullmatch(r"491\d{10}").all()


def test_phone_numbers_held_as_text_come_back_in_the_columns_own_shapes() -> None:
    rng = np.random.default_rng(5)
    us = [
        f"+1 {rng.integers(200, 999)}-{rng.integers(100, 999)}-{rng.integers(1000, 9999)}" for _ in range(270)
    ]
    dotted = [
        f"{rng.integers(200, 999)}.{rng.integers(100, 999)}.{rng.integers(1000, 9999)}" for _ in range(30)
    ]
    odd = ["+44 20 7946 0958"] * 3  # a shape too rare to be kept
    phones = pd.Series(us + dotted + odd, dtype=object)
    codec = _codec("phone_number", phones)
    out = codec.decode(codec.encode(phones), 2000, _rng(), 0)
    shapes = out.str.replace(r"\d", "#", regex=True).value_counts(normalize=True)
    assert set(shapes.index) == {"+# ###-###-####", "###.###.####"}
    assert shapes["+# ###-###-####"] == pytest.approx(0.9, abs=0.04)
    assert (out[out.str.startswith("+")].str[1] == "1").all()  # the shared country code
    assert not set(out) & set(phones)
    state, arrays = codec.get_state()
    fresh = PIICodec(Column("p", Kind.PII, pii_type="phone_number"), EncodingOptions())
    fresh.set_state(json.loads(json.dumps(state)), arrays)
    pd.testing.assert_series_equal(fresh.decode({}, 50, _rng(), 0), codec.decode({}, 50, _rng(), 0))
    with pytest.raises(MirageError, match="shapes"):
        fresh.set_state({**state, "shapes": {"###": "many"}}, arrays)


def test_phone_text_without_a_common_shape_falls_back_to_faker() -> None:
    phones = pd.Series([f"+{i} {i * 7919 % 100000}" + "-" * (i % 13) for i in range(40)], dtype=object)
    codec = _codec("phone_number", phones)
    assert codec.shapes == {}
    out = codec.decode({}, 20, _rng(), 0)
    assert out.str.contains(r"\d").all() and not set(out) & set(phones)


def test_national_and_international_phone_numbers_keep_their_own_leading_digits() -> None:
    """A German column writing 60% of its numbers nationally (``0593 423209``) and 40% with the country
    code (``+49(0)7593 82421``): international ones come back with +49, national ones with a 0, never a
    country code made of a national number's digits (``+02(3)...``)."""
    rng = np.random.default_rng(3)
    national = [f"0{rng.integers(200, 999)} {rng.integers(100_000, 999_999)}" for _ in range(300)]
    international = [f"+49(0){rng.integers(2000, 9999)} {rng.integers(10_000, 99_999)}" for _ in range(200)]
    phones = pd.Series(national + international, dtype=object)
    codec = _codec("phone_number", phones)
    out = codec.decode(codec.encode(phones), 3000, _rng(), 0)
    plus = out.str.startswith("+")
    assert plus.mean() == pytest.approx(0.4, abs=0.04)
    assert out[plus].str.startswith("+49(0)").all()
    assert out[~plus].str.startswith("0").all()
    assert not set(out) & set(phones)


def test_phone_leads_held_by_few_rows_are_not_kept() -> None:
    """Leading digits go only as deep as leads shared by rare_min_count rows cover the numbers: three
    country codes of 100+ rows each are kept; a country code of 4 rows never comes back."""
    rng = np.random.default_rng(4)
    codes = ["+33"] * 150 + ["+44"] * 120 + ["+39"] * 110 + ["+81"] * 4
    phones = pd.Series(
        [f"{c} {rng.integers(100, 999)} {rng.integers(1000, 9999)}" for c in codes], dtype=object
    )
    codec = _codec("phone_number", phones)
    out = codec.decode(codec.encode(phones), 3000, _rng(), 0)
    heads = out.str[:3].value_counts(normalize=True)
    assert set(heads.index) <= {"+33", "+44", "+39"}
    assert heads["+33"] == pytest.approx(150 / 380, abs=0.04)


def test_phone_state_written_before_leads_still_loads() -> None:
    """Model files before leads held one prefix and the digit after it, for every shape."""
    phones = pd.Series([f"+1 {200 + i}-555-{1000 + i}" for i in range(200)], dtype=object)
    state, arrays = _codec("phone_number", phones).get_state()
    del state["leads"], state["plus_leads"]
    state.update(prefix="1", next_digit=[0, 0, 5, 5, 0, 0, 0, 0, 0, 0])
    codec = PIICodec(Column("p", Kind.PII, pii_type="phone_number"), EncodingOptions())
    codec.set_state(json.loads(json.dumps(state)), arrays)
    out = codec.decode({}, 200, _rng(), 0)
    assert out.str.fullmatch(r"\+1 [23]\d\d-\d{3}-\d{4}").all()
    with pytest.raises(MirageError, match="next_digit"):
        codec.set_state({**state, "next_digit": [1, 2]}, arrays)
    with pytest.raises(MirageError, match="leads"):
        codec.set_state({**state, "leads": {"4x": 3}}, arrays)


def test_addresses_come_back_in_the_parts_the_column_writes_them_in() -> None:
    fake = Faker("en_US")
    fake.seed_instance(3)

    def place() -> str:
        return f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}"

    full = [f"{fake.street_address()}, {place()}" for _ in range(300)]
    two_lines = [f"{fake.street_address()}\n{place()}" for _ in range(100)]
    streets = [fake.street_address() for _ in range(3)]  # too few to keep their layout
    codec = _codec("street_address", pd.Series(full + two_lines + streets))
    assert codec.layouts == {"*, *, *": 300, "*\n*, *": 100}
    out = codec.decode({}, 2000, _rng(), 0)
    comma = out[out.str.fullmatch(r"[^,\n]+, [^,\n]+, [A-Z]{2} \d{5}")]
    lines = out[out.str.fullmatch(r"[^,\n]+\n[^,\n]+, [A-Z]{2} \d{5}")]
    assert len(comma) + len(lines) > 0.9 * len(out)  # Faker writes a few military addresses (DPO AE 46758)
    assert 0.7 < len(comma) / (len(comma) + len(lines)) < 0.8
    assert out.str.contains(",|\n").all()
    assert not set(out) & set(full + two_lines)
    state, arrays = codec.get_state()
    loaded = PIICodec(codec.column, EncodingOptions())
    loaded.set_state(json.loads(json.dumps(state)), arrays)
    assert loaded.decode({}, 50, _rng(), 0).tolist() == out[:50].tolist()


def test_streets_alone_stay_streets_and_a_bad_layout_is_refused() -> None:
    codec = _codec("street_address", _training("street_address"))
    assert codec.layouts == {}
    assert not codec.decode({}, 200, _rng(), 0).str.contains(",|\n").any()
    state, arrays = codec.get_state()
    assert "layouts" not in state
    with pytest.raises(MirageError, match="layouts"):
        codec.set_state({**state, "layouts": {"*; import os": 5}}, arrays)
