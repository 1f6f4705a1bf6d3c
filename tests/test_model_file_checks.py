"""A model file's manifest and arrays are untrusted: every edit is checked, used, or refused by name."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays

import mirage
from mirage.encoding import EncodingOptions
from mirage.engines import ENGINES, Synthesizer
from mirage.errors import ModelFileError, OptionError

ENGINE_NAMES = sorted(ENGINES)
# quality does not matter here, only the state
FAST = {
    "argn": {"max_epochs": 3},
    "dp": {"epsilon": 1000.0},
    "gan": {"max_epochs": 3},
    "vae": {"max_epochs": 3},
}


def table() -> pd.DataFrame:
    """Every learned kind (categories, numbers with nulls, dates, booleans) plus a key."""
    rng = np.random.default_rng(7)
    n = 600
    age = rng.uniform(18, 70, n).round(1)
    age[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], n),
            "city": rng.choice(["paris", "rome", "oslo", "lima"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "age": age,
            "visits": rng.integers(0, 500, n),
            "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
            "member": rng.random(n) < 0.3,
            "customer_id": [f"C-{i:05d}" for i in range(n)],
        }
    )


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def saved(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    name = request.param
    if name == "argn":
        pytest.importorskip("torch")
    path = tmp_path_factory.mktemp(name) / f"{name}.mirage"
    mirage.fit(table(), engine=name, **FAST.get(name, {})).save(path)
    return name, path


Manifest = dict[str, Any]
Arrays = dict[str, np.ndarray]


def copy_with(
    src: Path,
    dst: Path,
    manifest: Callable[[Manifest], None] | None = None,
    arrays: Callable[[Arrays], None] | None = None,
    *,
    drop: str | None = None,
) -> Path:
    """A copy of a model file with the manifest and/or the arrays edited (the arrays' hash updated)."""
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    doc = json.loads(members["manifest.json"])
    if arrays is not None:
        loaded = dict(load_arrays(members["arrays.safetensors"]))
        arrays(loaded)
        members["arrays.safetensors"] = save_arrays(loaded)
        doc["members"]["arrays.safetensors"] = hashlib.sha256(members["arrays.safetensors"]).hexdigest()
    if manifest is not None:
        manifest(doc)
    members["manifest.json"] = json.dumps(doc).encode()
    if drop is not None:
        del members[drop]
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dst


def codec(doc: Manifest, column: str) -> dict[str, Any]:
    state: dict[str, Any] = doc["state"]["encoder"]["codecs"][column]
    return state


def column(doc: Manifest, name: str) -> dict[str, Any]:
    return next(c for c in doc["schema"]["columns"] if c["name"] == name)


def load_error(path: Path) -> str:
    with pytest.raises(ModelFileError) as info:
        mirage.load(path)
    return str(info.value)


# --- the four cases of the issue ------------------------------------------------------------------


def test_a_category_list_of_another_length_is_refused(saved, tmp_path) -> None:
    _, path = saved

    def drop_female(doc: Manifest) -> None:
        state = codec(doc, "sex")
        i = state["categories"].index("female")
        del state["categories"][i], state["counts"][i]

    message = load_error(copy_with(path, tmp_path / "m.mirage", drop_female))
    assert message.startswith(f"model file {tmp_path / 'm.mirage'}: state.encoder.codecs.sex: ")
    assert "category list edited by hand must keep its length" in message


def test_a_category_renamed_in_place_is_used_and_reported(saved, tmp_path, caplog) -> None:
    _, path = saved
    before = mirage.load(path).sample(300, seed=4)

    def rename(doc: Manifest) -> None:
        state = codec(doc, "sex")
        state["categories"] = ["F" if c == "female" else c for c in state["categories"]]

    with caplog.at_level(logging.WARNING, logger="mirage"):
        after = mirage.load(copy_with(path, tmp_path / "m.mirage", rename)).sample(300, seed=4)
    assert (after["sex"] == "F").tolist() == (before["sex"] == "female").tolist()
    assert "edited by hand since it was saved (state.encoder.codecs.sex)" in caplog.text


def test_a_category_listed_twice_is_refused(saved, tmp_path) -> None:
    _, path = saved

    def twice(doc: Manifest) -> None:
        codec(doc, "city")["categories"][1] = codec(doc, "city")["categories"][0]

    message = load_error(copy_with(path, tmp_path / "m.mirage", twice))
    assert re.search(r": state\.encoder\.codecs\.city\.categories: '\w+' appears twice", message)


def test_declared_categories_must_match_the_learned_ones(saved, tmp_path) -> None:
    _, path = saved

    def declare(doc: Manifest) -> None:
        column(doc, "city")["categories"] = ["paris", "rome", "oslo", "berlin"]

    message = load_error(copy_with(path, tmp_path / "m.mirage", declare))
    assert "schema.columns.city.categories lists" in message
    assert "state.encoder.codecs.city.categories" in message


@pytest.mark.parametrize(
    ("value", "reason"),
    [("abc", "expected a finite number, got 'abc'"), (None, "expected a finite number, got None")],
)
def test_a_bound_that_is_not_a_number_is_refused(saved, tmp_path, value, reason) -> None:
    _, path = saved

    def edit(doc: Manifest) -> None:
        codec(doc, "age")["minimum"] = value

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert message.endswith(f": state.encoder.codecs.age.minimum: {reason}")


@pytest.mark.parametrize("where", ["schema", "state"])
def test_a_minimum_above_the_maximum_is_refused(saved, tmp_path, where) -> None:
    engine, path = saved
    if engine == "dp":
        pytest.skip("a dp model's schema holds no bound read from the data (tests/engines/test_dp.py)")

    def edit(doc: Manifest) -> None:
        fields = column(doc, "age") if where == "schema" else codec(doc, "age")
        fields["minimum"] = fields["maximum"] + 10

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert re.search(
        r"(schema\.columns|state\.encoder\.codecs)\.age\.minimum: .*greater than maximum", message
    )


@pytest.mark.parametrize("where", ["schema", "state"])
def test_an_edited_bound_is_honoured_by_sampling(saved, tmp_path, where) -> None:
    engine, path = saved
    if engine == "dp":
        pytest.skip("a dp model's schema holds no bound read from the data (tests/engines/test_dp.py)")
    model = mirage.load(path)
    low, high = model.schema_["age"].minimum, model.schema_["age"].maximum
    assert low is not None and high is not None
    bound = round(low + (high - low) / 2, 1)

    def edit(doc: Manifest) -> None:
        (column(doc, "age") if where == "schema" else codec(doc, "age"))["maximum"] = bound

    loaded = mirage.load(copy_with(path, tmp_path / "m.mirage", edit))
    assert loaded.schema_["age"].maximum == bound  # the schema and the codec agree again
    ages = loaded.sample(2000, seed=5)["age"].dropna()
    assert ages.max() <= bound < model.sample(2000, seed=5)["age"].max()


def test_a_widened_bound_lets_values_past_the_old_one(tmp_path) -> None:
    # cart's kernel in the values' own units (smoothing_space="value") lands some draws near the top
    # above the observed maximum: the bound clips them, and a wider bound keeps them (with value
    # protection switched off: by default nothing beyond the 10th largest value comes out; smoothing
    # in normal scores, the default, never draws past the largest learned value)
    path = mirage.fit(
        table(), engine="cart", encoding_options=EncodingOptions(rare_min_count=1), smoothing_space="value"
    ).save(tmp_path / "cart.mirage")
    old = mirage.load(path).schema_["age"].maximum
    assert old is not None

    def widen(doc: Manifest) -> None:
        column(doc, "age")["maximum"] = old + 30

    ages = mirage.load(copy_with(path, tmp_path / "m.mirage", widen)).sample(5000, seed=6)["age"]
    assert (ages > old).any() and ages.max() <= old + 30


def test_a_bound_edited_differently_in_both_places_is_refused(saved, tmp_path) -> None:
    _, path = saved

    def edit(doc: Manifest) -> None:
        column(doc, "age")["maximum"] = 50.0
        codec(doc, "age")["maximum"] = 60.0

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert "schema.columns.age.maximum is 50.0 but state.encoder.codecs.age.maximum is 60.0" in message


def test_a_file_written_before_the_digests_loads_as_before(saved, tmp_path, caplog) -> None:
    _, path = saved

    def older(doc: Manifest) -> None:
        del doc["content_sha256"]

    with caplog.at_level(logging.WARNING, logger="mirage"):
        loaded = mirage.load(copy_with(path, tmp_path / "m.mirage", older))
    pd.testing.assert_frame_equal(loaded.sample(200, seed=2), mirage.load(path).sample(200, seed=2))
    assert "edited" not in caplog.text


def test_infinite_categories_survive_a_round_trip(tmp_path) -> None:
    frame = pd.DataFrame({"a": [1.0, np.inf, 2.0] * 20, "b": list("xyz") * 20})
    path = mirage.fit(frame, engine="cart").save(tmp_path / "m.mirage")
    assert set(mirage.load(path).sample(300, seed=1)["a"]) == {1.0, 2.0, np.inf}


def test_without_digests_a_bound_edited_in_one_place_is_refused(saved, tmp_path) -> None:
    _, path = saved  # a file written before the content digests: which side was edited is unknown

    def edit(doc: Manifest) -> None:
        del doc["content_sha256"]
        column(doc, "age")["maximum"] = 50.0

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert "schema.columns.age.maximum is 50.0 but state.encoder.codecs.age.maximum is" in message


BAD_HYPERPARAMETER = {
    "copula": ("shrinkage", 1.5),
    "cart": ("smoothing", -1),
    "argn": ("temperature", 0),
    "dp": ("epsilon", -1.0),
    "vae": ("learning_rate", 0),
    "gan": ("learning_rate", 0),
    "bayesnet": ("smoothing", -1),
    "gmm": ("reg_covar", 0),
    "kde": ("widen", 1),
}


def test_a_bad_hyperparameter_is_refused_by_name(saved, tmp_path) -> None:
    engine, path = saved
    name, value = BAD_HYPERPARAMETER[engine]

    def edit(doc: Manifest) -> None:
        doc["hyperparameters"][name] = value

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert re.search(rf": hyperparameters\.{name}: must be a number .*, got {value}$", message)


def test_an_unknown_hyperparameter_is_refused(saved, tmp_path) -> None:
    engine, path = saved

    def edit(doc: Manifest) -> None:
        doc["hyperparameters"]["rm_rf"] = True

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert f"hyperparameters.rm_rf: engine {engine!r} has no such hyperparameter" in message


FIT_TIME_EDIT = {
    "copula": ("shrinkage", 0.2),
    "cart": ("smoothing", 0.5),
    "argn": ("dropout", 0.2),
    "dp": ("epsilon", 2.0),
    "vae": ("learning_rate", 0.5),
    "gan": ("learning_rate", 0.5),
    "bayesnet": ("smoothing", 0.7),
    "gmm": ("reg_covar", 0.01),
    "kde": ("quantiles", 500),
}


def test_an_edited_fit_time_hyperparameter_is_refused(saved, tmp_path) -> None:
    engine, path = saved
    name, value = FIT_TIME_EDIT[engine]

    def edit(doc: Manifest) -> None:
        doc["hyperparameters"][name] = value

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert f"hyperparameters.{name}: edited after the model was fitted" in message


def test_without_digests_a_hyperparameter_must_match_the_learned_state(tmp_path) -> None:
    path = mirage.fit(table(), engine="cart").save(tmp_path / "cart.mirage")

    def edit(doc: Manifest) -> None:
        del doc["content_sha256"]
        doc["hyperparameters"]["min_samples_leaf"] = 20

    assert load_error(copy_with(path, tmp_path / "m.mirage", edit)).endswith(
        "hyperparameters.min_samples_leaf: is 20 but the model was fitted with 50 (state.engine.leaf_size); "
        "a fit-time hyperparameter cannot be changed in a model file: refit the model"
    )


def test_an_edited_sampling_hyperparameter_is_used(tmp_path) -> None:
    pytest.importorskip("torch")
    path = mirage.fit(table(), engine="argn", **FAST["argn"]).save(tmp_path / "argn.mirage")

    def cool(doc: Manifest) -> None:
        doc["hyperparameters"]["temperature"] = 0.5

    loaded = mirage.load(copy_with(path, tmp_path / "m.mirage", cool))
    assert loaded.get_params()["temperature"] == 0.5
    assert not loaded.sample(200, seed=1).equals(mirage.load(path).sample(200, seed=1))


def test_an_edited_holdout_record_is_refused(saved, tmp_path) -> None:
    _, path = saved

    def edit(doc: Manifest) -> None:
        doc["state"]["training"]["holdout_fraction"] = 0.5

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert "state.training: edited after the model was fitted" in message


def test_a_missing_arrays_member_is_named(saved, tmp_path) -> None:
    _, path = saved
    message = load_error(copy_with(path, tmp_path / "m.mirage", drop="arrays.safetensors"))
    assert message == f"model file {tmp_path / 'm.mirage'}: arrays member 'arrays.safetensors' is missing"


def test_a_missing_codec_state_is_named(saved, tmp_path) -> None:
    _, path = saved

    def edit(doc: Manifest) -> None:
        del doc["state"]["encoder"]["codecs"]["joined"]

    assert load_error(copy_with(path, tmp_path / "m.mirage", edit)).endswith(
        "state.encoder.codecs.joined: missing: the schema's column has no learned state"
    )


def test_a_changed_kind_is_named(saved, tmp_path) -> None:
    _, path = saved

    def edit(doc: Manifest) -> None:
        column(doc, "city")["kind"] = "numeric"

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert "state.encoder.codecs.city." in message and "a kind cannot change after fitting" in message


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("maximum", "abc", "expected a finite number or null, got 'abc'"),
        ("nullable", "yes", "expected true or false, got 'yes'"),
        ("dtype", "nonsense", "not a pandas dtype: 'nonsense'"),
    ],
)
def test_a_schema_field_of_the_wrong_type_is_named(saved, tmp_path, field, value, reason) -> None:
    _, path = saved

    def edit(doc: Manifest) -> None:
        column(doc, "age")[field] = value

    assert load_error(copy_with(path, tmp_path / "m.mirage", edit)).endswith(
        f": schema.columns.age.{field}: {reason}"
    )


@pytest.mark.parametrize(
    ("column_name", "field", "value", "reason"),
    [
        ("joined", "unit", "fortnight", "must be one of"),
        ("joined", "tz", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("age", "decimals", -1, "must be >= 0, got -1"),
        ("sex", "counts", [1], "expected 2 entries, got 1"),
        ("member", "categories", ["no", "yes"], "expected [false, true] for a boolean column"),
        ("customer_id", "id_format", "", "an identifier format cannot be empty"),
        ("customer_id", "salt", -5, "must be in [0, "),
        ("age", "missing", {"present": "maybe"}, "expected true or false"),
    ],
)
def test_a_codec_field_that_cannot_be_used_is_named(
    saved, tmp_path, column_name, field, value, reason
) -> None:
    _, path = saved

    def edit(doc: Manifest) -> None:
        codec(doc, column_name)[field] = value

    message = load_error(copy_with(path, tmp_path / "m.mirage", edit))
    assert f": state.encoder.codecs.{column_name}.{field}" in message and reason in message


# --- arrays -------------------------------------------------------------------------------------------

TRUNCATE = {
    "copula": r"engine\.marginal\.0",
    "cart": r"engine\.leaves\.0\.cumulative",
    "argn": r"engine\.net\.embed\.weight",
    "dp": r"engine\.table\.0",
    "vae": r"engine\.net\.out\.weight",
    "gan": r"engine\.net\.out\.weight",
    "bayesnet": r"engine\.table\.0",
    "gmm": r"engine\.weights",
    "kde": r"engine\.centres",
}
WRONG_DTYPE = {
    "copula": r"engine\.cholesky",
    "cart": r"engine\.tree\.\d+\.left",
    "argn": r"engine\.discretiser\.\d+\.n_sub",
    "dp": r"engine\.table\.0",
    "vae": r"engine\.patterns",
    "gan": r"engine\.patterns",
    "bayesnet": r"engine\.table\.\d+",
    "gmm": r"engine\.means",
    "kde": r"engine\.centres",
}
WRONG_SHAPE = {
    "copula": r"engine\.cholesky",
    "cart": r"engine\.leaves\.\d+\.offsets",
    "argn": r"engine\.net\.target\.weight",
    "dp": r"engine\.table\.0",
    "vae": r"engine\.net\.sigma",
    "gan": r"engine\.net\.out\.bias",
    "bayesnet": r"engine\.table\.\d+",
    "gmm": r"engine\.means",
    "kde": r"engine\.centres",
}


def first_key(arrays: Arrays, pattern: str) -> str:
    return next(k for k in sorted(arrays) if re.fullmatch(pattern, k))


def edit_array(
    path: Path, dst: Path, pattern: str, change: Callable[[np.ndarray], np.ndarray]
) -> tuple[Path, str]:
    picked: list[str] = []

    def edit(arrays: Arrays) -> None:
        key = first_key(arrays, pattern)
        arrays[key] = np.ascontiguousarray(change(arrays[key]))
        picked.append(key)

    return copy_with(path, dst, arrays=edit), picked[0] if picked else ""


def test_a_truncated_array_is_named(saved, tmp_path) -> None:
    engine, path = saved
    bad, key = edit_array(path, tmp_path / "m.mirage", TRUNCATE[engine], lambda a: a[:-1])
    assert re.search(rf": arrays\.safetensors: array '{re.escape(key)}': expected shape \(", load_error(bad))


def test_an_array_of_the_wrong_dtype_is_named(saved, tmp_path) -> None:
    engine, path = saved

    def flip(a: np.ndarray) -> np.ndarray:
        return a.astype("float64") if a.dtype.kind in "iu" else a.astype("int64")

    bad, key = edit_array(path, tmp_path / "m.mirage", WRONG_DTYPE[engine], flip)
    assert re.search(
        rf"array '{re.escape(key)}': expected (integer|floating-point) values, got dtype", load_error(bad)
    )


def test_an_array_of_the_wrong_shape_is_named(saved, tmp_path) -> None:
    engine, path = saved

    def reshape(a: np.ndarray) -> np.ndarray:
        return a.reshape(-1, 1) if a.ndim == 1 else a.ravel()

    bad, key = edit_array(path, tmp_path / "m.mirage", WRONG_SHAPE[engine], reshape)
    assert re.search(rf"array '{re.escape(key)}': expected shape", load_error(bad))


def test_a_non_finite_array_value_is_named(saved, tmp_path) -> None:
    engine, path = saved

    def poison(a: np.ndarray) -> np.ndarray:
        out = a.astype("float64").copy()
        out.flat[0] = np.nan
        return out.astype(a.dtype)

    pattern = {
        "copula": r"engine\.cholesky",
        "cart": r"engine\.first",
        "argn": r"engine\.net\.embed\.weight",
        "dp": r"engine\.table\.0",
        "vae": r"engine\.net\.out\.weight",
        "gan": r"engine\.net\.out\.weight",
        "bayesnet": r"engine\.table\.\d+",
        "gmm": r"engine\.means",
        "kde": r"engine\.centres",
    }[engine]
    bad, key = edit_array(path, tmp_path / "m.mirage", pattern, poison)
    assert f"array '{key}': holds a value that is not finite" in load_error(bad)


def test_a_tree_reading_a_later_column_is_refused(tmp_path) -> None:
    path = mirage.fit(table(), engine="cart").save(tmp_path / "cart.mirage")

    def later(arrays: Arrays) -> None:
        feature = arrays["engine.tree.0.feature"].copy()
        feature[:] = 5  # tree 0 predicts sub-column 1 from sub-column 0 only
        arrays["engine.tree.0.feature"] = feature

    assert "valid tree" in load_error(copy_with(path, tmp_path / "m.mirage", arrays=later))


# --- hyperparameters are declared once and checked at fit and on load -----------------------------


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_every_hyperparameter_is_declared(name: str) -> None:
    cls = ENGINES[name]
    assert list(cls.params) == cls._param_names()
    defaults = cls().get_params()
    for param, spec in cls.params.items():
        assert spec.problem(defaults[param]) is None, param


def wrong_value(spec: Any) -> object:
    return 7 if spec.kind == "str" else "abc"


DECLARED = [(n, p) for n in ENGINE_NAMES for p in getattr(ENGINES[n], "params", {})]


@pytest.mark.parametrize(("name", "param"), DECLARED)
def test_a_bad_hyperparameter_fails_fit_naming_it(name: str, param: str) -> None:
    model: Synthesizer = ENGINES[name](**{param: wrong_value(ENGINES[name].params[param])})
    with pytest.raises(OptionError, match=rf"^{param} must be "):
        model.fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))


def test_negative_smoothing_fails_fit() -> None:
    with pytest.raises(OptionError, match=r"^smoothing must be a number >= 0 \(0 turns it off\), got -1$"):
        mirage.fit(table(), engine="cart", smoothing=-1)


# --- nothing in a model file runs code ---------------------------------------------------------------


def test_loading_never_unpickles(saved, monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model file was unpickled")

    for target in (pickle, np):
        monkeypatch.setattr(target, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    try:
        import torch

        monkeypatch.setattr(torch, "load", refuse)
    except ImportError:
        pass
    _, path = saved
    assert len(mirage.load(path).sample(10, seed=1)) == 10
