"""The format of keys and codes: a template (``C-{:06d}``), ``uuid`` or a character-class pattern.

See ``mirage.encoding.identifier`` for what the formats mean; inference lives here so that schema
inference can ask whether a column's values share a structure.
"""

from __future__ import annotations

import re
import string
from collections import Counter

import numpy as np
import pandas as pd

__all__ = ["CLASSES", "INTEGER_TEMPLATE", "UUID", "infer_id_format", "infer_pattern", "pattern_regex"]

UUID = "uuid"
INTEGER_TEMPLATE = "{:d}"
MIN_KEYS_FOR_LITERALS = 10  # constant positions become literals only when this many keys agree
CLASSES = {"A": string.ascii_uppercase, "a": string.ascii_lowercase, "9": string.digits}
_CLASS_REGEX = {"A": "[A-Z]", "a": "[a-z]", "9": "[0-9]"}
_DIGIT_RUN_RE = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)(?P<suffix>\D*)$", re.DOTALL)
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def _escape(char: str) -> str:
    return "\\" + char if char in CLASSES or char == "\\" else char


def _char_class(char: str) -> str | None:
    if char.isdigit():
        return "9"
    if char.isupper():
        return "A"
    if char.islower():
        return "a"
    return None


def infer_id_format(values: pd.Series) -> str:
    """The ``id_format`` that describes the non-null ``values`` (see the module docstring)."""
    present = values.dropna()
    if present.empty:
        return INTEGER_TEMPLATE
    if pd.api.types.is_numeric_dtype(present.dtype) and not pd.api.types.is_bool_dtype(present.dtype):
        x = present.to_numpy(dtype="float64")
        if np.all(np.isfinite(x)) and np.all(x == np.round(x)):
            return INTEGER_TEMPLATE
    text = [str(v) for v in present.tolist()]
    if all(_UUID_RE.match(t) for t in text):
        return UUID
    template = _infer_template(text)
    if template is not None:
        return template
    return infer_pattern(text)


def _infer_template(text: list[str]) -> str | None:
    matches = [_DIGIT_RUN_RE.match(t) for t in text]
    if any(m is None for m in matches):
        return None
    runs = [m for m in matches if m is not None]
    prefixes = {m["prefix"] for m in runs}
    suffixes = {m["suffix"] for m in runs}
    if len(prefixes) != 1 or len(suffixes) != 1:
        return None
    prefix, suffix = prefixes.pop(), suffixes.pop()
    if "{" in prefix + suffix or "}" in prefix + suffix:
        return None
    widths = {len(m["digits"]) for m in runs}
    padded = any(len(m["digits"]) > 1 and m["digits"].startswith("0") for m in runs)
    if len(widths) == 1 and (padded or len(runs) > 1):
        return f"{prefix}{{:0{widths.pop()}d}}{suffix}"
    if padded:
        return None
    return f"{prefix}{{:d}}{suffix}"


def infer_pattern(text: list[str]) -> str:
    length = Counter(len(t) for t in text).most_common(1)[0][0]
    keys = [t for t in text if len(t) == length]
    literals_allowed = len(set(keys)) >= MIN_KEYS_FOR_LITERALS
    out: list[str] = []
    for pos in range(length):
        chars = Counter(t[pos] for t in keys)
        if literals_allowed and len(chars) == 1:
            out.append(_escape(next(iter(chars))))
            continue
        classes: Counter[str | None] = Counter()
        for char, count in chars.items():
            classes[_char_class(char)] += count
        best = classes.most_common(1)[0][0]
        if best is None:
            literal = max((c for c in chars if _char_class(c) is None), key=lambda c: chars[c])
            out.append(_escape(literal))
        else:
            out.append(best)
    return "".join(out)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A regular expression that the strings a character-class pattern describes match in full."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(_CLASS_REGEX.get(char, re.escape(char)))
        i += 1
    return re.compile("".join(parts))
