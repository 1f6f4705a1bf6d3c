"""The token domain: the categorical token columns a table becomes, engine-independent.

A fitted :class:`~mirage.encoding.discretise.Discretiser` maps a table's encoded sub-columns to a
matrix of token codes; its :class:`Domain` says what the columns of that matrix are: each token's
name, the schema column it belongs to, its role and its cardinality.  An autoregressive engine
reads its heads and column groups from it; a marginal-based engine reads the cells of a marginal
(:meth:`Domain.size` of a :meth:`Domain.project`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, overload

from mirage._validate import StateError, require_int, require_list, require_mapping, require_str, within
from mirage.errors import OptionError

__all__ = ["ROLES", "Domain", "Token"]

ROLE_CODE = "code"
ROLE_BIN = "bin"
ROLE_SUB = "sub"
ROLE_WEEKDAY = "weekday"
ROLES = (ROLE_CODE, ROLE_BIN, ROLE_SUB, ROLE_WEEKDAY)


@dataclass(frozen=True)
class Token:
    """One categorical token column: codes in ``[0, cardinality)``."""

    name: str  # "<sub-column>#<role>"
    subcolumn: str
    column: str  # the schema column: tokens of one column move together in any order
    role: str  # "code" (a discrete sub-column), "bin" or "sub" (a continuous piece), "weekday"
    cardinality: int
    piece: str = ""  # for "bin" and "sub": the continuous piece (a sub-column, or a date's day or time)


@dataclass(frozen=True)
class Domain:
    """The token columns of a table, in the order of the token matrix's columns."""

    tokens: tuple[Token, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.tokens))
        seen: set[str] = set()
        for token in self.tokens:
            if token.name in seen:
                raise OptionError(f"domain: token {token.name!r} appears twice")
            if token.cardinality < 1:
                raise OptionError(f"domain: token {token.name!r} has cardinality {token.cardinality} (< 1)")
            if token.role not in ROLES:
                raise OptionError(
                    f"domain: token {token.name!r} has role {token.role!r} (not one of {ROLES})"
                )
            seen.add(token.name)

    def __len__(self) -> int:
        return len(self.tokens)

    def __iter__(self) -> Iterator[Token]:
        return iter(self.tokens)

    @overload
    def __getitem__(self, key: int) -> Token: ...
    @overload
    def __getitem__(self, key: str) -> Token: ...
    def __getitem__(self, key: int | str) -> Token:
        """The token at position ``key`` or named ``key``."""
        return self.tokens[self.index(key) if isinstance(key, str) else key]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tokens)

    @property
    def cardinalities(self) -> tuple[int, ...]:
        return tuple(t.cardinality for t in self.tokens)

    @property
    def columns(self) -> tuple[str, ...]:
        """The schema columns the tokens belong to, in order of their first token."""
        return tuple(dict.fromkeys(t.column for t in self.tokens))

    @property
    def groups(self) -> tuple[int, ...]:
        """The group index of each token: tokens of one schema column share a group (its position in
        :attr:`columns`)."""
        index = {column: i for i, column in enumerate(self.columns)}
        return tuple(index[t.column] for t in self.tokens)

    def by_column(self) -> dict[str, tuple[str, ...]]:
        """The token names of each schema column, in :attr:`columns` order."""
        out: dict[str, list[str]] = {column: [] for column in self.columns}
        for token in self.tokens:
            out[token.column].append(token.name)
        return {column: tuple(names) for column, names in out.items()}

    def index(self, name: str) -> int:
        """The position of the token ``name``; an unknown name is an ``OptionError`` naming it."""
        for j, token in enumerate(self.tokens):
            if token.name == name:
                return j
        raise OptionError(f"domain: no token {name!r} (tokens: {', '.join(self.names) or 'none'})")

    def project(self, names: Iterable[str]) -> Domain:
        """The sub-domain of the tokens ``names`` (in this domain's order)."""
        wanted = {self.index(name) for name in names}
        return Domain(tuple(t for j, t in enumerate(self.tokens) if j in wanted))

    def size(self, names: Iterable[str] | None = None) -> int:
        """The number of cells of the marginal over ``names`` (None: every token): the product of
        their cardinalities, 1 for no token."""
        domain = self if names is None else self.project(names)
        return math.prod(domain.cardinalities)

    # --- JSON ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"tokens": [asdict(t) for t in self.tokens]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Domain:
        """Restore :meth:`to_dict`'s output; every field is checked and an error names it."""
        out = []
        for i, token in enumerate(require_list(data, "tokens")):
            with within(f"tokens.{i}"):
                require_mapping(token)
                out.append(
                    Token(
                        name=require_str(token, "name"),
                        subcolumn=require_str(token, "subcolumn"),
                        column=require_str(token, "column"),
                        role=require_str(token, "role", choices=ROLES),
                        cardinality=require_int(token, "cardinality", low=1),
                        piece=require_str(token, "piece") if "piece" in token else "",
                    )
                )
        with within("tokens"):
            try:
                return cls(tuple(out))
            except OptionError as exc:
                raise StateError("", str(exc).removeprefix("domain: ")) from None
