"""Card transactions with labelled fraud: customers, merchants and their transactions, simulated in
blocks of customers with numpy (no per-event Python).

Every draw is a counter-based hash of the seed, the customer's number and what is drawn
(:mod:`mirage.simulate._transactions_random`), so the tables do not depend on how the customers are
cut into blocks or where the blocks run.  Legitimate spending: a Poisson number of purchases per
customer and day (weekday/weekend rhythm, more in the days after payday), categories by segment (and
weekend), merchants mostly in the home city, log-normal amounts; salaries on each customer's payday.
Fraud (``is_fraud``, ``fraud_pattern``) is injected per customer with probabilities set so that the
share of fraudulent rows is the fraud rate asked, split by the pattern mix.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from mirage.errors import DataError, OptionError
from mirage.schema import Column, DatabaseSchema, ForeignKey, Kind, Schema, Table
from mirage.simulate._core import BLOCK_AGENTS, DAY_MS, population_blocks, run_blocks
from mirage.simulate._transactions_random import agent_keys, normals, uniforms

__all__ = [
    "CATEGORIES",
    "CITIES",
    "DEFAULT_FRAUD_MIX",
    "FRAUD_PATTERNS",
    "SEGMENTS",
    "Scenario",
    "load_scenario",
    "simulate_transactions",
    "transactions_database",
]

CATEGORIES = (
    "groceries", "restaurants", "fuel", "retail", "online_shopping",
    "electronics", "travel", "entertainment", "health", "utilities",
)  # fmt: skip
# per category: median amount, log sd, share online, weekend multiplier, peak hour
_CATEGORY = np.array(
    [
        [45, 0.6, 0.05, 1.4, 17],
        [28, 0.5, 0.10, 1.6, 19],
        [50, 0.3, 0.00, 1.1, 8],
        [60, 0.8, 0.20, 1.5, 15],
        [40, 0.8, 1.00, 1.0, 21],
        [250, 0.9, 0.50, 1.3, 14],
        [300, 0.9, 0.70, 0.8, 11],
        [35, 0.6, 0.40, 1.8, 20],
        [30, 0.7, 0.10, 0.5, 10],
        [90, 0.4, 0.90, 0.3, 9],
    ]
)
SEGMENTS = ("student", "worker", "affluent", "retired")
# per segment: share, median income, income log sd, purchases a day, yearly default probability
_SEGMENT = np.array(
    [
        [0.15, 14_000, 0.4, 1.6, 0.05],
        [0.55, 48_000, 0.4, 2.0, 0.02],
        [0.12, 140_000, 0.5, 2.6, 0.005],
        [0.18, 30_000, 0.3, 1.4, 0.01],
    ]
)
_SEGMENT_CATEGORIES = np.array(
    [
        [0.25, 0.22, 0.03, 0.10, 0.20, 0.04, 0.02, 0.10, 0.02, 0.02],
        [0.28, 0.16, 0.12, 0.12, 0.10, 0.03, 0.03, 0.07, 0.04, 0.05],
        [0.20, 0.20, 0.08, 0.14, 0.10, 0.06, 0.08, 0.08, 0.03, 0.03],
        [0.35, 0.12, 0.08, 0.12, 0.04, 0.02, 0.04, 0.05, 0.12, 0.06],
    ]
)
# name, latitude, longitude, weight
CITIES: tuple[tuple[str, float, float, float], ...] = (
    ("New York", 40.71, -74.01, 8.3), ("Los Angeles", 34.05, -118.24, 3.9), ("Chicago", 41.88, -87.63, 2.7),
    ("Houston", 29.76, -95.37, 2.3), ("Phoenix", 33.45, -112.07, 1.6), ("Philadelphia", 39.95, -75.17, 1.6),
    ("San Antonio", 29.42, -98.49, 1.4), ("San Diego", 32.72, -117.16, 1.4), ("Dallas", 32.78, -96.80, 1.3),
    ("Seattle", 47.61, -122.33, 0.7), ("Denver", 39.74, -104.99, 0.7), ("Boston", 42.36, -71.06, 0.7),
    ("Miami", 25.76, -80.19, 0.45), ("Atlanta", 33.75, -84.39, 0.5), ("Minneapolis", 44.98, -93.27, 0.43),
    ("Detroit", 42.33, -83.05, 0.64),
)  # fmt: skip
_CITY_LAT = np.array([c[1] for c in CITIES])
_CITY_LON = np.array([c[2] for c in CITIES])
_WEEKDAY = np.array([0.92, 0.92, 0.95, 1.0, 1.12, 1.3, 0.8])  # Monday .. Sunday
_PAYDAYS = np.array([1, 15, 25, 28])
_AFTER_PAYDAY = 1.35  # purchases a day in the 3 days from payday
FRAUD_PATTERNS = ("card_testing", "account_takeover", "bust_out", "merchant_compromise")
DEFAULT_FRAUD_MIX = {
    "card_testing": 0.3,
    "account_takeover": 0.3,
    "bust_out": 0.15,
    "merchant_compromise": 0.25,
}
_ROWS_PER_INCIDENT = {
    "card_testing": 10.0,
    "account_takeover": 5.5,
    "bust_out": 17.0,
    "merchant_compromise": 2.5,
}
_FAR_KM = 800.0
_FRESH_DEVICE = 10**12
_MAX_DAILY = 24
# draw streams (one hash key per customer and stream)
_S_CUSTOMER, _S_MERCHANT, _S_DAY, _S_TX, _S_FRAUD = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Scenario:
    """Behaviour from ``start`` (a date) on: amounts times ``spend``, default risk times ``defaults``,
    and (where given) a new fraud rate and pattern mix."""

    start: dt.date
    spend: float = 1.0
    defaults: float = 1.0
    fraud_rate: float | None = None
    fraud_mix: dict[str, float] | None = None


def load_scenario(path: str | Path) -> Scenario:
    """A scenario from a YAML or JSON file with keys ``from`` (YYYY-MM-DD), ``spend``, ``defaults``,
    ``fraud_rate`` and ``fraud_mix`` (pattern -> share)."""
    source = Path(path)
    if not source.is_file():
        raise OptionError(f"scenario file '{source}': no such file")
    text = source.read_text(encoding="utf-8")
    try:
        if source.suffix.lower() in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text)
        else:
            raw = json.loads(text)
    except Exception as exc:  # any parser's error is the file's problem
        raise DataError(f"scenario '{source}' cannot be read: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise DataError(f"scenario '{source}' must be a mapping of keys to values")
    unknown = sorted(set(raw) - {"from", "spend", "defaults", "fraud_rate", "fraud_mix"})
    if unknown:
        raise DataError(f"scenario '{source}': unknown key '{unknown[0]}'")
    if "from" not in raw:
        raise DataError(f"scenario '{source}' needs 'from' (the date it starts, YYYY-MM-DD)")
    try:
        start = raw["from"] if isinstance(raw["from"], dt.date) else dt.date.fromisoformat(str(raw["from"]))
        mix = raw.get("fraud_mix")
        scenario = Scenario(
            start=start,
            spend=float(raw.get("spend", 1.0)),
            defaults=float(raw.get("defaults", 1.0)),
            fraud_rate=None if raw.get("fraud_rate") is None else float(raw["fraud_rate"]),
            fraud_mix=None if mix is None else {str(k): float(v) for k, v in dict(mix).items()},
        )
    except (TypeError, ValueError) as exc:
        raise DataError(f"scenario '{source}': {exc}") from exc
    if scenario.spend <= 0 or scenario.defaults < 0:
        raise DataError(f"scenario '{source}': spend must be positive and defaults 0 or more")
    return scenario


def _check_mix(mix: Mapping[str, float], where: str) -> dict[str, float]:
    unknown = [name for name in mix if name not in FRAUD_PATTERNS]
    if unknown:
        raise OptionError(
            f"{where}: unknown fraud pattern '{unknown[0]}' (known: {', '.join(FRAUD_PATTERNS)})"
        )
    if any(v < 0 for v in mix.values()) or sum(mix.values()) <= 0:
        raise OptionError(f"{where}: shares must be 0 or more and not all 0")
    total = sum(mix.values())
    return {name: float(mix.get(name, 0.0)) / total for name in FRAUD_PATTERNS}


@dataclass
class _Plan:
    """Everything a block needs (picklable, so blocks can run in other processes)."""

    seed: int
    start_ms: int
    days: int
    scenario_day: int
    spend: tuple[float, float]
    customers: dict[str, np.ndarray]
    merchants: dict[str, np.ndarray]
    by_cat_city: np.ndarray  # (category, city) -> [first, count] in merchants sorted by category, city
    by_cat: np.ndarray  # category -> [first, count]
    compromised: np.ndarray  # city -> merchant
    incident_probability: dict[tuple[str, int], float] = field(default_factory=dict)  # (pattern, period)


def _distance_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def _choose(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn by ``u`` from a cumulative distribution (last entry 1)."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def _customers(seed: int, count: int, given: pd.DataFrame | None) -> dict[str, np.ndarray]:
    ids = np.arange(count, dtype=np.int64)
    key = agent_keys(seed, _S_CUSTOMER, ids)
    segment = _choose(np.cumsum(_SEGMENT[:, 0]) / _SEGMENT[:, 0].sum(), uniforms(key, 0))
    income = _SEGMENT[segment, 1] * np.exp(_SEGMENT[segment, 2] * normals(key, 1))
    city_weights = np.array([c[3] for c in CITIES])
    city = _choose(np.cumsum(city_weights) / city_weights.sum(), uniforms(key, 4))
    if given is not None:
        segment, income, city = _given_customers(given, segment, income, city)
    income = np.round(income, -2)
    lat = _CITY_LAT[city] + 0.08 * normals(key, 3)
    lon = _CITY_LON[city] + 0.08 * normals(key, 4)
    payday = _PAYDAYS[_choose(np.array([0.3, 0.55, 0.8, 1.0]), uniforms(key, 10))]
    credit_limit = np.round(np.clip(income * (0.15 + 0.1 * uniforms(key, 11)), 500, 50_000), -2)
    return {
        "customer_id": ids,
        "segment": segment,
        "income": income,
        "city": city,
        "home_lat": np.round(lat, 5),
        "home_lon": np.round(lon, 5),
        "payday": payday,
        "credit_limit": credit_limit,
    }


def _given_customers(
    given: pd.DataFrame, segment: np.ndarray, income: np.ndarray, city: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if "income" in given:
        values = pd.to_numeric(given["income"], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if len(bad):
            raise DataError(f"customers: column 'income', row {bad[0]}: not a number 0 or more")
        income = values
    if "segment" in given:
        lookup = {name: i for i, name in enumerate(SEGMENTS)}
        codes = [lookup.get(str(v), -1) for v in given["segment"]]
        if -1 in codes:
            row = codes.index(-1)
            raise DataError(
                f"customers: column 'segment', row {row}: '{given['segment'].iloc[row]}' is not one of "
                f"{', '.join(SEGMENTS)}"
            )
        segment = np.array(codes)
    if "city" in given:
        lookup = {c[0]: i for i, c in enumerate(CITIES)}
        codes = [lookup.get(str(v), -1) for v in given["city"]]
        if -1 in codes:
            row = codes.index(-1)
            raise DataError(f"customers: column 'city', row {row}: unknown city '{given['city'].iloc[row]}'")
        city = np.array(codes)
    return segment, income, city


def _merchants(seed: int, count: int) -> dict[str, np.ndarray]:
    ids = np.arange(count, dtype=np.int64)
    key = agent_keys(seed, _S_MERCHANT, ids)
    weights = _SEGMENT_CATEGORIES.mean(axis=0)
    category = _choose(np.cumsum(weights) / weights.sum(), uniforms(key, 0))
    category[: len(CATEGORIES)] = np.arange(len(CATEGORIES))  # every category has a merchant
    city_weights = np.array([c[3] for c in CITIES]) ** 0.5
    city = _choose(np.cumsum(city_weights) / city_weights.sum(), uniforms(key, 1))
    order = np.lexsort((city, category))  # merchant numbers run by category, then city
    category, city = category[order], city[order]
    return {
        "merchant_id": ids,
        "category": category,
        "city": city,
        "lat": np.round(_CITY_LAT[city] + 0.08 * normals(key, 2), 5),
        "lon": np.round(_CITY_LON[city] + 0.08 * normals(key, 3), 5),
    }


def _day_factors(start: dt.date, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per day: weekday (0 Monday), purchases multiplier per payday option, salary per payday option."""
    dates = pd.date_range(start, periods=days, freq="D")
    weekday = dates.day_of_week.to_numpy()
    since_payday = dates.day.to_numpy()[None, :] - _PAYDAYS[:, None]
    after = np.where((since_payday >= 0) & (since_payday < 3), _AFTER_PAYDAY, 1.0)
    return weekday, _WEEKDAY[weekday][None, :] * after, since_payday == 0


def _fresh_devices(keys: np.ndarray, counter: int | np.ndarray) -> np.ndarray:
    return _FRESH_DEVICE + (uniforms(keys, counter) * 1e11).astype(np.int64)


def _in_city(plan: _Plan, category: np.ndarray, city: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A merchant of ``category`` in ``city`` (``city`` -1, or none there: anywhere)."""
    first, count = plan.by_cat_city[category, np.maximum(city, 0), 0], plan.by_cat_city[category, city, 1]
    anywhere = (city < 0) | (count == 0)
    first = np.where(anywhere, plan.by_cat[category, 0], first)
    count = np.where(anywhere, plan.by_cat[category, 1], count)
    return first + np.minimum((u * count).astype(np.int64), count - 1)


def _far_city(home: np.ndarray, u: np.ndarray) -> np.ndarray:
    distance = _distance_km(_CITY_LAT[:, None], _CITY_LON[:, None], _CITY_LAT[None, :], _CITY_LON[None, :])
    far = distance > _FAR_KM
    ranked = np.argsort(~far, axis=1, kind="stable")  # far cities first, in city order
    counts = far.sum(axis=1)
    return ranked[home, np.minimum((u * counts[home]).astype(np.int64), counts[home] - 1)]


_COLUMNS = (
    "customer",
    "time",
    "amount",
    "merchant",
    "category",
    "online",
    "device",
    "lat",
    "lon",
    "kind",
    "fraud",
)


def _rows(**columns: np.ndarray) -> dict[str, np.ndarray]:
    return {name: columns[name] for name in _COLUMNS}


def _legit(plan: _Plan, local: np.ndarray) -> list[dict[str, np.ndarray]]:
    cust = plan.customers
    ids = cust["customer_id"][local]
    n, days = len(local), plan.days
    weekday, multiplier, salary_day = _day_factors(_date(plan.start_ms), days)
    payday_option = np.searchsorted(_PAYDAYS, cust["payday"][local])
    segment, city = cust["segment"][local], cust["city"][local]
    default_day = cust["default_day"][local]
    alive = np.arange(days)[None, :] < default_day[:, None]
    rate = _SEGMENT[segment, 3][:, None] * multiplier[payday_option] * alive
    day_keys = agent_keys(plan.seed, _S_DAY, ids)
    u = uniforms(day_keys[:, None], np.arange(days, dtype=np.uint64)[None, :])
    counts = np.zeros((n, days), dtype=np.int64)
    p = np.exp(-rate)
    cdf = p.copy()
    for k in range(1, _MAX_DAILY):  # inverse Poisson CDF, one term at a time
        above = u > cdf
        if not above.any():
            break
        counts += above
        p = p * rate / k
        cdf += p
    flat = counts.ravel()
    cd = np.repeat(np.arange(n * days), flat)
    row_local, day = cd // days, cd % days
    starts = np.cumsum(flat) - flat
    slot = np.arange(len(cd)) - np.repeat(starts, flat)
    keys = agent_keys(plan.seed, _S_TX, ids)[row_local]
    counter = ((day * _MAX_DAILY + slot) * 16).astype(np.uint64)
    seg = segment[row_local]
    weekend = weekday[day] >= 5
    weights = _SEGMENT_CATEGORIES[:, None, :] * np.stack([np.ones(len(CATEGORIES)), _CATEGORY[:, 3]])[None]
    cdfs = np.cumsum(weights / weights.sum(axis=2, keepdims=True), axis=2).reshape(-1, len(CATEGORIES))
    cdfs[:, -1] = 1.0
    rows_cdf = cdfs[seg * 2 + weekend]
    category = np.minimum((uniforms(keys, counter)[:, None] >= rows_cdf).sum(axis=1), len(CATEGORIES) - 1)
    online = uniforms(keys, counter + 1) < _CATEGORY[category, 2]
    travelling = uniforms(day_keys[row_local], (days + day).astype(np.uint64)) < 0.01
    home = city[row_local]
    other = (
        home
        + 1
        + (uniforms(day_keys[row_local], (2 * days + day).astype(np.uint64)) * (len(CITIES) - 1)).astype(
            np.int64
        )
    ) % len(CITIES)
    shop_city = np.where(travelling, other, home)
    merchant = _in_city(plan, category, np.where(online, -1, shop_city), uniforms(keys, counter + 2))
    income = cust["income"][local][row_local]
    spend = np.where(day < plan.scenario_day, plan.spend[0], plan.spend[1])
    typical = _CATEGORY[category, 0] * (np.maximum(income, 5_000) / 48_000) ** 0.3
    amount = np.maximum(
        np.round(typical * np.exp(_CATEGORY[category, 1] * normals(keys, counter // 2 + 2)) * spend, 2), 0.5
    )
    hour = np.where(
        online,
        uniforms(keys, counter + 6) * 24,
        np.clip(_CATEGORY[category, 4] + 2.5 * normals(keys, counter // 2 + 4), 6, 23.99),
    )
    device_u = uniforms(keys, counter + 7)
    device = ids[row_local] * 4 + (device_u >= 0.8)
    device = np.where(device_u >= 0.99, _fresh_devices(keys, counter + 11), device)
    lat = np.where(
        online,
        np.where(travelling, _CITY_LAT[shop_city], cust["home_lat"][local][row_local]),
        plan.merchants["lat"][merchant],
    )
    lon = np.where(
        online,
        np.where(travelling, _CITY_LON[shop_city], cust["home_lon"][local][row_local]),
        plan.merchants["lon"][merchant],
    )
    purchases = _rows(
        customer=ids[row_local],
        time=plan.start_ms + day * DAY_MS + (hour * 3_600_000).astype(np.int64),
        amount=amount,
        merchant=merchant,
        category=category,
        online=online,
        device=device,
        lat=lat,
        lon=lon,
        kind=np.zeros(len(cd), dtype=np.int8),
        fraud=np.full(len(cd), -1, dtype=np.int8),
    )
    paid = salary_day[payday_option] & alive
    who, on = np.nonzero(paid)
    m = len(who)
    salaries = _rows(
        customer=ids[who],
        time=plan.start_ms + on * DAY_MS + 9 * 3_600_000,
        amount=np.round(cust["income"][local][who] / 12, 2),
        merchant=np.full(m, -1),
        category=np.full(m, -1),
        online=np.zeros(m, dtype=bool),
        device=np.full(m, -1),
        lat=np.full(m, np.nan),
        lon=np.full(m, np.nan),
        kind=np.ones(m, dtype=np.int8),
        fraud=np.full(m, -1, dtype=np.int8),
    )
    return [purchases, salaries]


def _date(ms: int) -> dt.date:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=ms)).date()


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For incidents with ``counts`` rows: each row's incident and its number within the incident."""
    incident = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return incident, np.arange(len(incident)) - np.repeat(starts, counts)


def _fraud(plan: _Plan, local: np.ndarray) -> list[dict[str, np.ndarray]]:
    ids = plan.customers["customer_id"][local]
    out: list[dict[str, np.ndarray]] = []
    periods = [(0, plan.scenario_day), (plan.scenario_day, plan.days)]
    for code, pattern in enumerate(FRAUD_PATTERNS):
        for period, (first_day, last_day) in enumerate(periods):
            q = plan.incident_probability.get((pattern, period), 0.0)
            if q <= 0 or last_day <= first_day:
                continue
            all_keys = agent_keys(plan.seed, _S_FRAUD * 100 + code * 10 + period, ids)
            hit = np.flatnonzero(uniforms(all_keys, 0) < q)
            if not len(hit):
                continue
            keys, victim = all_keys[hit], local[hit]
            lo, hi = plan.start_ms + first_day * DAY_MS, plan.start_ms + last_day * DAY_MS
            span = hi - lo
            out.extend(_incidents(plan, pattern, code, keys, victim, lo, hi, span))
    return out


def _incidents(
    plan: _Plan, pattern: str, code: int, keys: np.ndarray, victim: np.ndarray, lo: int, hi: int, span: int
) -> list[dict[str, np.ndarray]]:
    cust, merchants = plan.customers, plan.merchants
    v = len(victim)
    u = [uniforms(keys, k) for k in range(1, 8)]
    home = cust["city"][victim]
    limit = cust["credit_limit"][victim]
    scale = (np.maximum(cust["income"][victim], 5_000) / 48_000) ** 0.3
    device_own = cust["customer_id"][victim] * 4
    fresh = _fresh_devices(keys, 99)

    def row_draws(incident: np.ndarray, number: np.ndarray, slot: int) -> np.ndarray:
        return uniforms(keys[incident], (1000 + number * 16 + slot).astype(np.uint64))

    def emit(incident: np.ndarray, **columns: np.ndarray) -> dict[str, np.ndarray]:
        n = len(incident)
        columns.setdefault("kind", np.zeros(n, dtype=np.int8))
        columns.setdefault("fraud", np.full(n, code, dtype=np.int8))
        columns["time"] = np.minimum(columns["time"], hi - 1).astype(np.int64)
        columns["amount"] = np.round(columns["amount"], 2)
        return _rows(customer=cust["customer_id"][victim][incident], **columns)

    def at_merchant(merchant: np.ndarray) -> dict[str, np.ndarray]:
        return {"merchant": merchant, "lat": merchants["lat"][merchant], "lon": merchants["lon"][merchant]}

    if pattern == "card_testing":  # a burst of small online amounts on a new device
        incident, number = _expand(5 + (u[0] * 11).astype(np.int64))
        gaps = 5_000 + (row_draws(incident, number, 0) * 85_000).astype(np.int64)
        start = lo + (u[1] * max(span - 3_600_000, 1)).astype(np.int64)
        elapsed = np.cumsum(gaps)
        firsts = np.flatnonzero(number == 0)
        time = (
            start[incident]
            + elapsed
            - np.repeat(elapsed[firsts] - gaps[firsts], np.bincount(incident, minlength=v))
        )
        where = (u[2] * len(CITIES)).astype(np.int64)
        merchant = _in_city(
            plan, np.full(len(incident), 4), np.full(len(incident), -1), row_draws(incident, number, 1)
        )
        return [
            emit(
                incident,
                time=time,
                amount=0.5 + row_draws(incident, number, 2) * 4.49,
                merchant=merchant,
                category=np.full(len(incident), 4),
                online=np.ones(len(incident), dtype=bool),
                device=fresh[incident],
                lat=_CITY_LAT[where][incident],
                lon=_CITY_LON[where][incident],
            )
        ]
    if pattern == "account_takeover":  # far from home, a new device, large amounts, within two days
        incident, number = _expand(3 + (u[0] * 6).astype(np.int64))
        start = lo + (u[1] * max(span - 2 * DAY_MS, 1)).astype(np.int64)
        time = start[incident] + (row_draws(incident, number, 0) * 2 * DAY_MS).astype(np.int64)
        far = _far_city(home, u[2])[incident]
        category = np.array([5, 6, 3])[(row_draws(incident, number, 1) * 3).astype(np.int64)]
        merchant = _in_city(plan, category, far, row_draws(incident, number, 2))
        amount = np.minimum(
            _CATEGORY[category, 0] * scale[incident] * (3 + 7 * row_draws(incident, number, 3)),
            limit[incident] * 0.5,
        )
        # in a shop only where the far city has one of that category (else online, from there)
        online = (row_draws(incident, number, 4) < 0.5) | (merchants["city"][merchant] != far)
        return [
            emit(
                incident,
                time=time,
                amount=amount,
                category=category,
                online=online,
                device=fresh[incident],
                merchant=merchant,
                lat=np.where(online, _CITY_LAT[far], merchants["lat"][merchant]),
                lon=np.where(online, _CITY_LON[far], merchants["lon"][merchant]),
            )
        ]
    if pattern == "bust_out":  # purchases growing for weeks at home, then the limit spent within a day
        build = 8 + (u[0] * 7).astype(np.int64)
        bust = 4 + (u[1] * 5).astype(np.int64)
        ramp = min(60 * DAY_MS, int(span * 0.8))
        start = lo + (u[2] * max(span - ramp - DAY_MS, 1)).astype(np.int64)
        incident, number = _expand(build + bust)
        in_build = number < build[incident]
        step = number / np.maximum(build[incident] - 1, 1)
        time = np.where(
            in_build,
            start[incident] + (step * ramp).astype(np.int64),
            start[incident] + ramp + ((0.5 + 0.5 * row_draws(incident, number, 0)) * DAY_MS).astype(np.int64),
        )
        small = 20.0 * (np.maximum(0.1 * limit[incident], 20.0) / 20.0) ** np.minimum(step, 1.0)
        weight = np.where(in_build, 0.0, 0.8 + 0.4 * row_draws(incident, number, 1))
        large = 0.95 * limit[incident] * weight / np.bincount(incident, weight, v)[incident]
        category = np.array([5, 3, 6])[(row_draws(incident, number, 2) * 3).astype(np.int64)]
        merchant = _in_city(plan, category, home[incident], row_draws(incident, number, 3))
        return [
            emit(
                incident,
                time=time,
                amount=np.where(in_build, small, large),
                category=category,
                online=np.zeros(len(incident), dtype=bool),
                device=device_own[incident],
                **at_merchant(merchant),
            )
        ]
    # merchant compromise: a (legitimate) purchase at the home city's compromised merchant, then the card
    # is used elsewhere days later
    exposed = lo + (u[0] * span * 0.7).astype(np.int64)
    shop = plan.compromised[home]
    everyone = np.arange(v)
    exposure = emit(
        everyone,
        time=exposed,
        amount=_CATEGORY[merchants["category"][shop], 0] * scale,
        merchant=shop,
        category=merchants["category"][shop],
        online=np.zeros(v, dtype=bool),
        device=device_own,
        lat=merchants["lat"][shop],
        lon=merchants["lon"][shop],
        fraud=np.full(v, -1, dtype=np.int8),
    )
    incident, number = _expand(1 + (u[1] * 4).astype(np.int64))
    time = exposed[incident] + (2 * DAY_MS + row_draws(incident, number, 0) * 8 * DAY_MS).astype(np.int64)
    category = np.array([4, 5, 3])[(row_draws(incident, number, 1) * 3).astype(np.int64)]
    where = (row_draws(incident, number, 2) * len(CITIES)).astype(np.int64)
    online = row_draws(incident, number, 3) < 0.6
    merchant = _in_city(plan, category, np.where(online, -1, where), row_draws(incident, number, 4))
    amount = (
        _CATEGORY[category, 0] * scale[incident] * 1.5 * np.exp(0.8 * (row_draws(incident, number, 5) - 0.5))
    )
    used = emit(
        incident,
        time=time,
        amount=amount,
        category=category,
        online=online,
        device=fresh[incident],
        merchant=merchant,
        lat=np.where(online, _CITY_LAT[where], merchants["lat"][merchant]),
        lon=np.where(online, _CITY_LON[where], merchants["lon"][merchant]),
    )
    return [exposure, used]


def _simulate_block(plan: _Plan, block: range) -> dict[str, np.ndarray]:
    local = np.arange(block.start, block.stop, dtype=np.int64)
    parts = _legit(plan, local) + _fraud(plan, local)
    rows = {name: np.concatenate([part[name] for part in parts]) for name in _COLUMNS}
    order = np.lexsort((rows["fraud"], rows["time"], rows["customer"]))
    return {name: values[order] for name, values in rows.items()}


def _plan(
    seed: int,
    customers: int | pd.DataFrame,
    days: int,
    start: dt.date,
    fraud_rate: float,
    fraud_mix: Mapping[str, float] | None,
    merchants: int | None,
    scenario: Scenario | None,
) -> _Plan:
    given = customers if isinstance(customers, pd.DataFrame) else None
    count = len(customers) if isinstance(customers, pd.DataFrame) else int(customers)
    if count < 1:
        raise OptionError(f"customers must be 1 or more, got {count}")
    if days < 1:
        raise OptionError(f"days must be 1 or more, got {days}")
    if not 0 <= fraud_rate < 0.5:
        raise OptionError(f"fraud_rate must be at least 0 and below 0.5, got {fraud_rate:g}")
    mix = _check_mix(DEFAULT_FRAUD_MIX if fraud_mix is None else fraud_mix, "fraud_mix")
    scenario_day = days
    if scenario is not None:
        scenario_day = min(max((scenario.start - start).days, 0), days)
    cust = _customers(seed, count, given)
    default_yearly = _SEGMENT[cust["segment"], 4]
    hazard = -np.log1p(-default_yearly) / 365.0
    factor = 1.0 if scenario is None else scenario.defaults
    u = uniforms(agent_keys(seed, _S_CUSTOMER, cust["customer_id"]), 20)
    need = -np.log1p(-u)  # cumulative hazard at default
    before = hazard * scenario_day
    after_day = scenario_day + (need - before) / np.maximum(hazard * factor, 1e-300)
    default_day = np.where(need < before, need / hazard, after_day)
    cust["default_day"] = np.ceil(np.minimum(default_day, days + 1)).astype(np.int64)
    n_merchants = max(len(CATEGORIES) * 4, count // 25) if merchants is None else merchants
    if n_merchants < len(CATEGORIES):
        raise OptionError(
            f"merchants must be at least {len(CATEGORIES)} (one per category), got {n_merchants}"
        )
    shops = _merchants(seed, n_merchants)
    cells = shops["category"] * len(CITIES) + shops["city"]
    counts = np.bincount(cells, minlength=len(CATEGORIES) * len(CITIES)).reshape(len(CATEGORIES), len(CITIES))
    firsts = (np.cumsum(counts.ravel()) - counts.ravel()).reshape(counts.shape)
    by_cat_city = np.stack([firsts, counts], axis=2)
    cat_counts = counts.sum(axis=1)
    by_cat = np.stack([np.cumsum(cat_counts) - cat_counts, cat_counts], axis=1)
    picks = uniforms(agent_keys(seed, _S_MERCHANT, np.arange(len(CITIES))), 50)
    plan = _Plan(
        seed=seed,
        start_ms=int((pd.Timestamp(start) - pd.Timestamp(0)) // pd.Timedelta(milliseconds=1)),
        days=days,
        scenario_day=scenario_day,
        spend=(1.0, 1.0 if scenario is None else scenario.spend),
        customers=cust,
        merchants=shops,
        by_cat_city=by_cat_city,
        by_cat=by_cat,
        compromised=np.zeros(len(CITIES), dtype=np.int64),
    )
    in_store = np.array([0, 1, 2])[(picks * 3).astype(np.int64)]
    plan.compromised = _in_city(
        plan, in_store, np.arange(len(CITIES)), uniforms(agent_keys(seed, 77, np.arange(len(CITIES))), 0)
    )
    # fraud incidents per customer, so that fraudulent rows are the fraud rate of all rows on average
    _, multiplier, salary_day = _day_factors(start, days)
    base = _SEGMENT[cust["segment"], 3]
    option = np.searchsorted(_PAYDAYS, cust["payday"])
    periods = [(0, scenario_day, fraud_rate, mix)]
    if scenario is not None:
        rate = fraud_rate if scenario.fraud_rate is None else scenario.fraud_rate
        if not 0 <= rate < 0.5:
            raise OptionError(f"scenario fraud_rate must be at least 0 and below 0.5, got {rate:g}")
        new_mix = mix if scenario.fraud_mix is None else _check_mix(scenario.fraud_mix, "scenario fraud_mix")
        periods.append((scenario_day, days, rate, new_mix))
    for period, (first, last, rate, shares) in enumerate(periods):
        legit = base * multiplier[option, first:last].sum(axis=1) + salary_day[option, first:last].sum(axis=1)
        for pattern, share in shares.items():
            q = rate / (1 - rate) * float(legit.mean()) * share / _ROWS_PER_INCIDENT[pattern]
            if q > 1:
                raise OptionError(
                    f"fraud rate {rate:g} is too high for pattern '{pattern}' over {last - first} days"
                )
            plan.incident_probability[(pattern, period)] = q
    return plan


def simulate_transactions(
    customers: int | pd.DataFrame,
    days: int = 90,
    *,
    seed: int = 0,
    start: str | dt.date = "2025-01-01",
    fraud_rate: float = 0.002,
    fraud_mix: Mapping[str, float] | None = None,
    merchants: int | None = None,
    scenario: Scenario | str | Path | None = None,
    blocks: Sequence[range] | None = None,
    executor: Executor | None = None,
) -> dict[str, pd.DataFrame]:
    """Simulate card transactions: ``{"customers", "merchants", "transactions"}`` tables whose keys
    :func:`transactions_database` describes.

    ``customers`` is a number, or a DataFrame of customers (say a learned model's rows) with ``income``
    and optionally ``segment`` (one of :data:`SEGMENTS`) and ``city`` (a name in :data:`CITIES`); what
    it lacks is drawn.  ``fraud_rate`` is the expected share of fraudulent rows, split by ``fraud_mix``
    (pattern -> share, default :data:`DEFAULT_FRAUD_MIX`); ``scenario`` (or a YAML/JSON file of one)
    changes behaviour from its date on.  ``blocks`` (ranges of customer numbers) and ``executor`` only
    change where the work runs, never the tables.
    """
    begin = start if isinstance(start, dt.date) else _parse_date(start)
    if scenario is not None and not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    plan = _plan(seed, customers, days, begin, fraud_rate, fraud_mix, merchants, scenario)
    count = len(plan.customers["customer_id"])
    chosen = population_blocks(count, BLOCK_AGENTS) if blocks is None else list(blocks)
    covered = sorted(i for block in chosen for i in (block.start, block.stop))
    if chosen and (covered[0] != 0 or covered[-1] != count or sum(len(b) for b in chosen) != count):
        raise OptionError(f"blocks must cover customers 0 .. {count - 1} once each")
    parts = run_blocks(
        partial(_simulate_block, plan), sorted(chosen, key=lambda b: b.start), executor=executor
    )
    rows = {name: np.concatenate([part[name] for part in parts]) for name in _COLUMNS}
    return {
        "customers": _customers_frame(plan),
        "merchants": _merchants_frame(plan),
        "transactions": _transactions_frame(rows),
    }


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise OptionError(f"start must be a date (YYYY-MM-DD), got '{text}'") from exc


def _categorical(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(list(names)))


def _customers_frame(plan: _Plan) -> pd.DataFrame:
    c = plan.customers
    default = np.where(
        c["default_day"] < plan.days, plan.start_ms + c["default_day"] * DAY_MS, np.iinfo(np.int64).min
    )
    return pd.DataFrame(
        {
            "customer_id": c["customer_id"],
            "segment": _categorical(c["segment"], SEGMENTS),
            "income": c["income"],
            "city": _categorical(c["city"], [name for name, *_ in CITIES]),
            "home_lat": c["home_lat"],
            "home_lon": c["home_lon"],
            "payday": c["payday"],
            "credit_limit": c["credit_limit"],
            "default_date": pd.to_datetime(
                np.where(
                    default == np.iinfo(np.int64).min, np.datetime64("NaT"), default.astype("datetime64[ms]")
                )
            ),
        }
    )


def _merchants_frame(plan: _Plan) -> pd.DataFrame:
    m = plan.merchants
    compromised = np.zeros(len(m["merchant_id"]), dtype=bool)
    compromised[plan.compromised] = True
    return pd.DataFrame(
        {
            "merchant_id": m["merchant_id"],
            "category": _categorical(m["category"], CATEGORIES),
            "city": _categorical(m["city"], [name for name, *_ in CITIES]),
            "lat": m["lat"],
            "lon": m["lon"],
            "compromised": compromised,
        }
    )


def _transactions_frame(rows: Mapping[str, np.ndarray]) -> pd.DataFrame:
    n = len(rows["customer"])
    return pd.DataFrame(
        {
            "transaction_id": np.arange(n, dtype=np.int64),
            "customer_id": rows["customer"],
            "time": rows["time"].astype("datetime64[ms]"),
            "kind": _categorical(rows["kind"], ["purchase", "salary"]),
            "amount": rows["amount"],
            "merchant_id": pd.arrays.IntegerArray(rows["merchant"].astype(np.int64), rows["merchant"] < 0),
            "category": _categorical(rows["category"], CATEGORIES),
            "online": rows["online"],
            "device_id": pd.arrays.IntegerArray(rows["device"].astype(np.int64), rows["device"] < 0),
            "lat": rows["lat"],
            "lon": rows["lon"],
            "is_fraud": rows["fraud"] >= 0,
            "fraud_pattern": _categorical(rows["fraud"], FRAUD_PATTERNS),
        }
    )


def transactions_database() -> DatabaseSchema:
    """The three tables' keys: customers(customer_id), merchants(merchant_id), and transactions'
    customer_id and (empty for salaries) merchant_id."""

    def table(name: str, columns: list[tuple[str, Kind, str, bool]], key: str) -> Table:
        schema = Schema([Column(c, kind, dtype=dtype, nullable=null) for c, kind, dtype, null in columns])
        return Table(name, schema, primary_key=(key,))

    ident, num, cat = Kind.IDENTIFIER, Kind.NUMERIC, Kind.CATEGORICAL
    tables = {
        "customers": table(
            "customers",
            [
                ("customer_id", ident, "int64", False),
                ("segment", cat, "category", False),
                ("income", num, "float64", False),
                ("city", cat, "category", False),
                ("home_lat", num, "float64", False),
                ("home_lon", num, "float64", False),
                ("payday", num, "int64", False),
                ("credit_limit", num, "float64", False),
                ("default_date", Kind.DATETIME, "datetime64[ms]", True),
            ],
            "customer_id",
        ),
        "merchants": table(
            "merchants",
            [
                ("merchant_id", ident, "int64", False),
                ("category", cat, "category", False),
                ("city", cat, "category", False),
                ("lat", num, "float64", False),
                ("lon", num, "float64", False),
                ("compromised", Kind.BOOLEAN, "bool", False),
            ],
            "merchant_id",
        ),
        "transactions": table(
            "transactions",
            [
                ("transaction_id", ident, "int64", False),
                ("customer_id", ident, "int64", False),
                ("time", Kind.DATETIME, "datetime64[ms]", False),
                ("kind", cat, "category", False),
                ("amount", num, "float64", False),
                ("merchant_id", ident, "Int64", True),
                ("category", cat, "category", True),
                ("online", Kind.BOOLEAN, "bool", False),
                ("device_id", ident, "Int64", True),
                ("lat", num, "float64", True),
                ("lon", num, "float64", True),
                ("is_fraud", Kind.BOOLEAN, "bool", False),
                ("fraud_pattern", cat, "category", True),
            ],
            "transaction_id",
        ),
    }
    keys = [
        ForeignKey("transactions", ("customer_id",), "customers", ("customer_id",)),
        ForeignKey("transactions", ("merchant_id",), "merchants", ("merchant_id",), True),
    ]
    return DatabaseSchema(tables, keys)
