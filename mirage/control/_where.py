"""A small, safe grammar for conditions written as text (``mirage sample --where``); never evaluated.

    where   := clause ("and" clause)*
    clause  := NAME ("==" | "!=" | ">=" | "<=" | ">" | "<") VALUE
             | NAME "in" "[" VALUE ("," VALUE)* "]"
             | NAME "between" VALUE "and" VALUE
             | NAME "is" ["not"] "null"
    NAME    := a word, or any text in `backquotes`
    VALUE   := a number, 'quoted' or "quoted" text, true / false, or a bare word (dates: quote them)

Keywords are case-insensitive.  Each clause becomes a typed condition on its column (``OneOf``,
``Between``, ``IsNull``, ``NotNull``); ``>`` and ``<`` exclude their bound (the next representable
number), ``!=`` on a categorical or boolean column allows every other learned value (missing values
excluded, as in SQL), and two conditions of a kind on one column intersect.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from mirage._duration_text import as_duration
from mirage.engines._conditions import Between, Condition, IsNull, NotNull, OneOf, datetime_literal
from mirage.errors import OptionError
from mirage.schema import Kind

if TYPE_CHECKING:
    from mirage.engines import Synthesizer

__all__ = ["parse_where"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<name>`[^`]*`)
      | (?P<text>'[^']*'|"[^"]*")
      | (?P<op>==|!=|>=|<=|>|<|=)
      | (?P<punct>[\[\],])
      | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?=$|[\s,\]]))
      | (?P<word>[^\s,\[\]'"`=<>!]+)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "in", "between", "is", "not", "null"}


@dataclass(frozen=True)
class Token:
    kind: str  # name, text, op, punct, number, word
    text: str  # as written
    value: Any  # the parsed value (a number, unquoted text, the word)

    @property
    def keyword(self) -> str | None:
        return self.text.lower() if self.kind == "word" and self.text.lower() in KEYWORDS else None


def _tokens(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:].strip()
            raise OptionError(f"where {text!r}: cannot read {rest[:20]!r}")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        value: Any = raw
        if kind in ("name", "text"):
            value = raw[1:-1]
        elif kind == "number":
            value = float(raw) if re.search(r"[.eE]", raw) else int(raw)
        tokens.append(Token(kind, raw, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, model: Synthesizer) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.model = model
        self.schema = model.schema_

    def fail(self, problem: str, token: Token | None = None) -> OptionError:
        where = f"at {token.text!r}" if token is not None else "at the end"
        return OptionError(f"where {self.text!r}, {where}: {problem}")

    def peek(self) -> Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, what: str) -> Token:
        token = self.peek()
        if token is None:
            raise self.fail(f"expected {what}")
        self.at += 1
        return token

    def expect_keyword(self, word: str) -> Token:
        token = self.take(f"{word!r}")
        if token.keyword != word:
            raise self.fail(f"expected {word!r}", token)
        return token

    def parse(self) -> dict[str, Condition]:
        if not self.tokens:
            raise OptionError("where: the text is empty; write e.g. \"age >= 30 and sex == 'F'\"")
        conditions: dict[str, Condition] = {}
        while True:
            column, condition, token = self.clause()
            conditions[column] = self.combine(column, conditions.get(column), condition, token)
            joiner = self.peek()
            if joiner is None:
                return conditions
            self.at += 1
            if joiner.keyword != "and":
                raise self.fail("expected 'and' between conditions", joiner)

    def column(self) -> str:
        token = self.take("a column name")
        if token.kind not in ("name", "word") or token.keyword is not None:
            raise self.fail("expected a column name", token)
        name = str(token.value)
        if name not in self.schema.names:
            raise self.fail(f"unknown column {name!r} (columns: {', '.join(self.schema.names)})", token)
        return name

    def clause(self) -> tuple[str, Condition, Token]:
        column = self.column()
        token = self.take("an operator")
        keyword = token.keyword
        if keyword == "is":
            nxt = self.take("'null' or 'not null'")
            if nxt.keyword == "not":
                self.expect_keyword("null")
                return column, NotNull(), token
            if nxt.keyword != "null":
                raise self.fail("expected 'null' or 'not null'", nxt)
            return column, IsNull(), token
        if keyword == "in":
            return column, OneOf(self.values(column)), token
        if keyword == "between":
            low = self.value(column)
            self.expect_keyword("and")
            return column, Between(low, self.value(column)), token
        if token.kind != "op":
            raise self.fail("expected an operator (==, !=, >=, <=, >, <, in, between, is)", token)
        value_token = self.peek()
        value = self.value(column)
        if token.text in ("==", "="):
            return column, OneOf([value]), token
        if token.text == "!=":
            return column, self.not_equal(column, value, value_token), token
        return column, self.bound(column, token, value, value_token), token

    def values(self, column: str) -> list[Any]:
        opening = self.take("'['")
        if opening.text != "[":
            raise self.fail("expected '[' after 'in'", opening)
        values = [self.value(column)]
        while True:
            token = self.take("',' or ']'")
            if token.text == "]":
                return values
            if token.text != ",":
                raise self.fail("expected ',' or ']'", token)
            values.append(self.value(column))

    def value(self, column: str) -> Any:
        token = self.take("a value")
        if token.kind not in ("number", "text", "word") or token.keyword is not None:
            raise self.fail("expected a value", token)
        kind = self.schema[column].kind
        if kind is Kind.BOOLEAN and token.kind == "word":
            lowered = token.text.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            raise self.fail(f"column {column!r} is boolean: expected true or false", token)
        if kind is Kind.NUMERIC and self.schema[column].dtype.startswith("timedelta"):
            try:
                return as_duration(token.value)
            except ValueError:
                raise self.fail(
                    f"column {column!r} holds durations: expected a duration such as 90min or '2h 30m' "
                    "(quoted when it has a space), or seconds",
                    token,
                ) from None
        if kind is Kind.NUMERIC and token.kind != "number":
            raise self.fail(f"column {column!r} is numeric: expected a number", token)
        if kind is Kind.CATEGORICAL:
            return self.category(column, token)
        if kind is Kind.DATETIME:
            try:
                return datetime_literal(str(token.value), self.schema[column])
            except ValueError as error:
                raise self.fail(f"column {column!r} holds dates: {error}", token) from None
        return token.value

    def category(self, column: str, token: Token) -> Any:
        """The learned category written as ``token`` (numbers and text alike), else the value as given."""
        codec = next((c for c in self.model.encoder_.codecs if c.column.name == column), None)
        for category in getattr(codec, "categories", []):
            if str(category) == str(token.value) or (
                token.kind == "number" and not isinstance(category, (str, bool)) and category == token.value
            ):
                return category
        return token.value

    def not_equal(self, column: str, value: Any, token: Token | None) -> Condition:
        kind = self.schema[column].kind
        if kind not in (Kind.CATEGORICAL, Kind.BOOLEAN):
            raise self.fail(
                f"!= needs a categorical or boolean column, and {column!r} is {kind.value}; use < or >", token
            )
        codec = next((c for c in self.model.encoder_.codecs if c.column.name == column), None)
        others = [c for c in getattr(codec, "categories", []) if c != value]
        if not others:
            raise self.fail(f"column {column!r} takes no value other than {value!r}", token)
        return OneOf(others)

    def bound(self, column: str, op: Token, value: Any, token: Token | None) -> Condition:
        kind = self.schema[column].kind
        if kind not in (Kind.NUMERIC, Kind.DATETIME):
            raise self.fail(
                f"{op.text} needs a numeric or datetime column, and {column!r} is {kind.value}", op
            )
        if kind is Kind.DATETIME or isinstance(value, pd.Timedelta):
            step = pd.Timedelta(1, "ns")
            if op.text == ">":
                value = value + step
            elif op.text == "<":
                value = value - step
        elif op.text in (">", "<"):
            value = math.nextafter(float(value), math.inf if op.text == ">" else -math.inf)
        return Between(low=value) if op.text in (">", ">=") else Between(high=value)

    def combine(self, column: str, before: Condition | None, now: Condition, token: Token) -> Condition:
        if before is None:
            return now
        if isinstance(before, Between) and isinstance(now, Between):
            lows = [v for v in (before.low, now.low) if v is not None]
            highs = [v for v in (before.high, now.high) if v is not None]
            return Between(max(lows) if lows else None, min(highs) if highs else None)
        if isinstance(before, OneOf) and isinstance(now, OneOf):
            both = [v for v in before if v in now]
            if not both:
                raise self.fail(f"the conditions on column {column!r} leave no value", token)
            return OneOf(both)
        raise self.fail(f"column {column!r} has two conditions that cannot be combined", token)


def parse_where(text: str, model: Synthesizer) -> dict[str, Condition]:
    """The typed conditions that ``text`` writes (grammar in the module's docstring), for ``model``'s
    columns; an ``OptionError`` names the token at fault."""
    if not isinstance(text, str):
        raise OptionError(f"where must be text, got {type(text).__name__}")
    return _Parser(text, model).parse()
