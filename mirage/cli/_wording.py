"""The library words its errors in Python terms (``force=True``, ``target``); the CLI's user sets the
same things with flags, so a library error is reworded into those flags before it is shown."""

from __future__ import annotations

import re

__all__ = ["cli_message"]

# (library wording, CLI wording); each pattern is pinned by a test that raises the library error
_FLAG_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"pass force=True\b"), "pass --force"),
    (re.compile(r"^target ('.*?') is not a column"), r"--target \1 is not a column"),
    (re.compile(r"^the utility scores \(target=.*?\) need a holdout"), "utility (--target) needs a holdout"),
    (
        re.compile(r"fitted without a holdout \(fit\(\.\.\., holdout=0\.2\) keeps one\)"),
        "fitted without --holdout",
    ),
    (
        re.compile(r"refit the model \(mirage\.fit\(\.\.\., (\w+)=VALUE\)\)"),
        r"refit the model (mirage fit ... --param \1=VALUE)",
    ),
)


def cli_message(message: str) -> str:
    """``message`` with the library's argument words replaced by the CLI flags that set them."""
    for pattern, words in _FLAG_WORDS:
        message = pattern.sub(words, message)
    return message
