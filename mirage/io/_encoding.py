"""Text encodings of input files: detection, and errors that name the first undecodable byte."""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from mirage.errors import DataError
from mirage.io._formats import open_binary

__all__ = ["LegacyGuess", "detect_encoding", "detect_text_encoding", "guess_legacy", "undecodable"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_TIE = 0.01
# the single-byte code pages of Windows, the usual source of non-UTF-8 exports; cp1252 first: most common
WINDOWS_CODE_PAGES = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "cp1255", "cp1256", "cp1258"
)  # fmt: skip
EXAMPLE_WORDS = 3
MAX_ALTERNATIVES = 3
LONG_WORD = 4
ACCENTED_SHARE = 0.75
# runs of ASCII letters and non-ASCII characters: the words a code page's bytes are read into
_WORD = re.compile(r"[^\x00-\x40\x5b-\x60\x7b-\x7f]+")
_SURROGATE = re.compile("[\udc80-\udcff]")
_MULTIBYTE = re.compile("[\u0080-\udc7f\udd00-\U0010ffff]")


def detect_encoding(sample: bytes, *, complete: bool) -> str:
    """Guess the text encoding of ``sample``, the first bytes of a file (all of it if ``complete``)."""
    return detect_text_encoding(sample, complete=complete)[0]


def detect_text_encoding(sample: bytes, *, complete: bool) -> tuple[str, LegacyGuess | None]:
    """The text encoding of ``sample`` (the first bytes of a file, all of it if ``complete``), and the
    guess among Windows code pages that chose it, if one did (for a warning: the bytes cannot say).

    A BOM decides; else UTF-8 if the bytes are valid UTF-8, or mostly UTF-8 with some damage (so
    that reading names the first bad byte instead of turning every accent into mojibake); else the
    Windows code page whose reading looks most like words (:func:`guess_legacy`); else
    charset-normalizer's guess, with cp1252 preferred whenever it explains the bytes as well.
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name, None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", None
    if _damaged_utf8(sample, complete=complete):
        return "utf-8", None
    if b"\x00" not in sample:
        guess = guess_legacy(sample)
        if guess is not None:
            return guess.encoding, guess
    return _charset_guess(sample), None


def _charset_guess(sample: bytes) -> str:
    """charset-normalizer's guess, cp1252 preferred whenever it explains the bytes as well."""
    has_nul = b"\x00" in sample
    matches = [m for m in from_bytes(sample) if has_nul or not m.encoding.startswith(("utf_16", "utf_32"))]
    if not matches:
        return "latin-1"
    best = min(matches, key=lambda m: (m.chaos, -m.coherence))
    western = from_bytes(sample, cp_isolation=["cp1252"]).best()
    if (
        western is not None
        and western.chaos <= best.chaos + _TIE
        and western.coherence >= best.coherence - _TIE
    ):
        return "cp1252"
    return str(best.encoding)


@dataclass(frozen=True)
class LegacyGuess:
    """The Windows code page chosen for bytes that are not UTF-8, and how the others read them.

    ``examples``: the most frequent words with non-ASCII letters as ``encoding`` reads them;
    ``alternatives``: (code page, its reading of the same words) for every other code page that reads
    them as plausibly (the bytes alone cannot tell these apart: the user must).
    """

    encoding: str
    examples: tuple[str, ...]
    alternatives: tuple[tuple[str, tuple[str, ...]], ...]

    def describe(self, source: str) -> str:
        """One line for a warning: what was read, and how to read it otherwise."""
        line = f"{source} is not UTF-8: read as {self.encoding}, which gives {_quoted(self.examples)}"
        if self.alternatives:
            others = "; ".join(f"{name} would give {_quoted(words)}" for name, words in self.alternatives)
            line += f" ({others})"
        return line + "; pass encoding= to name the file's encoding if these words look wrong"


def guess_legacy(sample: bytes) -> LegacyGuess | None:
    """The Windows code page whose reading of ``sample``'s non-ASCII words looks most like text.

    A reading is penalised for each word holding a character that is not a letter (``£ódŸ``), letters
    of two scripts (Latin and Cyrillic), a capital after a small letter, or Latin letters nearly all
    accented (``Ìîñêâà``, Cyrillic read as cp1252); the code pages with the
    fewest penalties are ranked by charset-normalizer's language coherence.  None when no code page
    decodes the bytes or they hold no non-ASCII word.
    """
    readings: dict[str, Counter[str]] = {}
    for name in WINDOWS_CODE_PAGES:
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        words = Counter(w for w in _WORD.findall(text) if not w.isascii())
        if words:
            readings[name] = words
    if not readings:
        return None
    penalty = {name: sum(n for w, n in words.items() if _implausible(w)) for name, words in readings.items()}
    fewest = min(penalty.values())
    tied = [name for name in readings if penalty[name] == fewest]
    if len(tied) > 1:
        ranked: dict[str, tuple[float, float]] = {}
        for match in from_bytes(sample, cp_isolation=tied):  # one match stands for all that read alike
            for name in match.could_be_from_charset:
                ranked.setdefault(str(name), (match.chaos, -match.coherence))
        tied.sort(key=lambda name: ranked.get(name, (1.0, 0.0)))  # stable: cp1252 first among equals
    best = readings[tied[0]]
    chosen = next(name for name in tied if readings[name] == best)
    examples = tuple(w for w, _ in readings[chosen].most_common(EXAMPLE_WORDS))
    alternatives: list[tuple[str, tuple[str, ...]]] = []
    seen = [readings[chosen]]
    for name in tied:
        if readings[name] not in seen:
            seen.append(readings[name])
            alternatives.append((name, tuple(w for w, _ in readings[name].most_common(EXAMPLE_WORDS))))
    return LegacyGuess(chosen, examples, tuple(alternatives[:MAX_ALTERNATIVES]))


def _implausible(word: str) -> bool:
    scripts = set()
    previous_lower = False
    for char in word:
        category = unicodedata.category(char)
        if not category.startswith("L"):
            return True
        if category == "Lu" and previous_lower:
            return True
        previous_lower = category == "Ll"
        scripts.add(unicodedata.name(char, "?").split(" ")[0])
    scripts.discard("?")
    if len(scripts) > 1:
        return True
    # a Latin word of accented letters only is another script read through the wrong code page
    accented = sum(not char.isascii() for char in word)
    return scripts == {"LATIN"} and len(word) >= LONG_WORD and accented > ACCENTED_SHARE * len(word)


def _quoted(words: tuple[str, ...]) -> str:
    return ", ".join(repr(w) for w in words)


def _damaged_utf8(sample: bytes, *, complete: bool) -> bool:
    """Valid multi-byte UTF-8 sequences at least as often as undecodable bytes: UTF-8 with damage."""
    if not complete:
        sample = sample[: len(sample) - 3]  # a sequence cut by the sample's end is not damage
    text = sample.decode("utf-8", errors="surrogateescape")
    valid = len(_MULTIBYTE.findall(text))
    return valid > 0 and valid >= len(_SURROGATE.findall(text))


def undecodable(path: Path, encoding: str) -> DataError | None:
    """The error naming the first byte of ``path`` that ``encoding`` cannot decode (None: all decode)."""
    offset, newlines, pending = 0, 0, b""
    with open_binary(path) as handle:
        while True:
            chunk = handle.read(1 << 20)
            data = pending + chunk
            try:
                data.decode(encoding)
            except UnicodeDecodeError as exc:
                if chunk and exc.end == len(data) and exc.end - exc.start < 4:
                    good, pending = data[: exc.start], data[exc.start :]  # maybe cut by the chunk's end
                    newlines += good.count(b"\n")
                    offset += len(good)
                    continue
                byte = data[exc.start]
                line = newlines + data[: exc.start].count(b"\n") + 1
                return DataError(
                    f"'{path}' is not valid {encoding} text: byte 0x{byte:02X} at offset "
                    f"{offset + exc.start} (line {line}) cannot be decoded; pass encoding= to read it "
                    "as another encoding (e.g. encoding='cp1252')"
                )
            if not chunk:
                return None
            newlines += data.count(b"\n")
            offset += len(data)
            pending = b""
