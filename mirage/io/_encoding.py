"""Text encodings of input files: detection, and errors that name the first undecodable byte."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from charset_normalizer import from_bytes

from mirage.errors import DataError
from mirage.io._formats import open_binary

__all__ = ["detect_encoding", "undecodable"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_TIE = 0.01
_SURROGATE = re.compile("[\udc80-\udcff]")
_MULTIBYTE = re.compile("[\u0080-\udc7f\udd00-\U0010ffff]")


def detect_encoding(sample: bytes, *, complete: bool) -> str:
    """Guess the text encoding of ``sample``, the first bytes of a file (all of it if ``complete``).

    A BOM decides; else UTF-8 if the bytes are valid UTF-8, or mostly UTF-8 with some damage (so
    that reading names the first bad byte instead of turning every accent into mojibake); else
    charset-normalizer's guess, with cp1252 preferred whenever it explains the bytes as well (small
    samples are ambiguous).
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if _damaged_utf8(sample, complete=complete):
        return "utf-8"
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
