"""Detection of personal data (PII) in a column, from its name and its content.

``detect_pii`` returns one of :data:`~mirage.schema._column.PII_TYPES` or ``None``.  Two kinds of
evidence are used:

* **content**: a deterministic sample of up to 500 distinct non-null values is checked against a
  strict recogniser per type (email syntax, IBAN and Luhn check digits, US SSN rules, IP syntax,
  phone numbers with phone-like formatting, street addresses, personal names); a type is detected
  when at least 80% of the sampled values pass;
* **name**: the column name split into tokens (``_``, ``-``, space, camelCase); a hint such as
  ``email``, ``phone``, ``first_name`` or ``ssn`` is enough on its own, provided the values do not
  contradict it (an ``email_verified`` yes/no column is not an email: hints must end the name, and
  the values must loosely look like the type).

Whole numbers are read as their digits: they are PII under a strong name hint (SSN, credit card,
phone, account number) with the right number of digits, or by content like digit-only text: card
numbers that pass Luhn, national ids that pass their scheme's check (Dutch BSN, Swedish, Norwegian,
Polish, Brazilian, Indian and French ids), valid phone numbers; always with at least
``MIN_DISTINCT_DIGITS`` distinct values, so counts, measurements and 1..n keys stay numbers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["detect_pii", "name_tokens"]

SAMPLE_SIZE = 500
THRESHOLD = 0.8
LOOSE_THRESHOLD = 0.5
KNOWN_FIRST_NAME_SHARE = 0.6  # of sampled values whose first word is a known first name
MIN_DISTINCT_WEAK = 5  # street addresses and names need this many distinct values to be seen by content
_WEAK_CONTENT = frozenset({"street_address", "person_name"})

# ------------------------------------------------------------------------------------------------
# column names
# ------------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# trailing tokens that qualify a hint without changing it ("phone_number", "address_line_1")
_SUFFIXES = frozenset({"number", "no", "nr", "num", "nbr", "line", "value", "str", "text", "string"})
_PERSON_ROLES = frozenset(
    {
        "contact",
        "customer",
        "client",
        "person",
        "patient",
        "user",
        "employee",
        "owner",
        "holder",
        "cardholder",
        "account",
        "buyer",
        "seller",
        "member",
        "student",
        "passenger",
        "driver",
        "recipient",
        "sender",
        "author",
        "applicant",
        "guest",
        "traveler",
        "traveller",
        "subscriber",
        "beneficiary",
        "insured",
        "policyholder",
        "teacher",
        "doctor",
        "physician",
        "manager",
        "agent",
        "rep",
        "representative",
        "emergency",
        "billing",
        "shipping",
        "full",
        "legal",
        "display",
        "real",
        "my",
        "your",
    }
)


def name_tokens(name: str) -> list[str]:
    """Lower-case tokens of a column name: split on ``_``, ``-``, spaces, dots and camelCase."""
    return [t.lower() for t in _TOKEN_RE.findall(str(name))]


def _strip_suffixes(tokens: list[str]) -> tuple[list[str], bool]:
    stripped = False
    while len(tokens) > 1 and (tokens[-1] in _SUFFIXES or tokens[-1].isdigit()):
        tokens = tokens[:-1]
        stripped = True
    return tokens, stripped


def _ends(tokens: Sequence[str], *patterns: tuple[str, ...]) -> bool:
    return any(len(tokens) >= len(p) and tuple(tokens[-len(p) :]) == p for p in patterns)


def _name_hint(name: str) -> str | None:
    """The PII type a column name points to, or None.  Hints must end the name."""
    raw = name_tokens(name)
    if not raw:
        return None
    tokens, had_suffix = _strip_suffixes(raw)
    if _ends(tokens, ("email",), ("e", "mail"), ("mail",), ("emailaddress",), ("email", "address")):
        return "email"
    if _ends(tokens, ("mail", "address"), ("e", "mail", "address")):
        return "email"
    if _ends(tokens, ("ip",), ("ipaddress",), ("ip", "address"), ("ipv4",), ("ipv6",), ("ip", "addr")):
        return "ip_address"
    if _ends(tokens, ("iban",)):
        return "iban"
    if _ends(tokens, ("account",), ("acct",), ("accountnumber",), ("acctno",), ("bank", "account")):
        return "account_number"
    if _ends(
        tokens,
        ("phone",),
        ("phonenumber",),
        ("tel",),
        ("telephone",),
        ("mobile",),
        ("fax",),
        ("cell",),
        ("cellphone",),
        ("mobile", "phone"),
    ):
        return "phone_number"
    if _ends(
        tokens,
        ("ssn",),
        ("social", "security"),
        ("socialsecurity",),
        ("national", "id"),
        ("nationalid",),
        ("passport",),
        ("nino",),
    ):
        return "national_id"
    if (
        _ends(tokens, ("credit", "card"), ("debit", "card"), ("creditcard",), ("cc",), ("ccnumber",))
        or _ends(tokens, ("pan",), ("ccnum",))
        or tokens == ["card"]
        or (had_suffix and _ends(tokens, ("card",)))
    ):
        return "credit_card"
    if _ends(tokens, ("first", "name"), ("firstname",), ("given", "name"), ("givenname",), ("forename",)):
        return "first_name"
    if _ends(tokens, ("fname",)):
        return "first_name"
    if _ends(tokens, ("last", "name"), ("lastname",), ("surname",), ("family", "name"), ("familyname",)):
        return "last_name"
    if _ends(tokens, ("lname",)):
        return "last_name"
    if tokens in (["name"], ["fullname"], ["full", "name"]) or (
        len(tokens) == 2 and tokens[1] == "name" and tokens[0] in _PERSON_ROLES
    ):
        return "person_name"
    if len(tokens) == 1 and tokens[0] in ("contactname", "customername", "clientname", "personname"):
        return "person_name"
    if _ends(tokens, ("address",), ("street",), ("addr",), ("streetaddress",), ("street", "address")):
        return "street_address"
    return None


# ------------------------------------------------------------------------------------------------
# content recognisers (strict) and plausibility checks (loose, used with a name hint)
# ------------------------------------------------------------------------------------------------

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,24}$"
)
_PHONE_CHARS_RE = re.compile(r"^\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?|#)\s*\d{1,6})?$", re.IGNORECASE)
_PHONE_FORMAT_RE = re.compile(r"[+()\-\s./]")
_DATE_RE = re.compile(r"^\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?:[ T].*)?\s*$")
_NUMBER_RE = re.compile(r"^\s*[-+]?\d+(?:[.,]\d+)?\s*$")
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IT", "ES", "NL", "CA", "AU", "IN", "BR", "MX")
_SSN_RE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_IBAN_LOOSE_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9 ]{8,}$")

_STREET_WORDS = (
    r"st|street|ave|avenue|av|avda|road|rd|blvd|boulevard|lane|ln|drive|dr|way|court|ct|place|pl|"
    r"square|sq|terrace|ter|parkway|pkwy|highway|hwy|circle|cir|crescent|close|row|alley|trail|"
    r"str|straße|strasse|gasse|weg|platz|allee|ring|damm|ufer|chaussee|"
    r"rue|route|chemin|impasse|quai|cours|allée|"
    r"via|viale|piazza|piazzale|corso|largo|vicolo|strada|contrada|rotonda|stretto|borgo|canale|"
    r"calle|carrera|avenida|paseo|camino|callejón|cuesta|ronda|rambla|pasadizo|cañada|acceso|"
    r"travesía|glorieta|urbanización|plaza|rua|travessa|estrada|alameda|praça|"
    r"plein|laan|straat|gracht|gatan|vägen|vej|gade|katu|ul|ulica"
)
_STREET_WORD_RE = re.compile(rf"(?:^|[\s,.\-])(?:{_STREET_WORDS})\b\.?", re.IGNORECASE)
# "141 Hodges Mountains", "10 Downing Street": a house number, then capitalised words
_NUMBER_FIRST_RE = re.compile(r"^\d{1,5}[A-Za-z]?,?\s+[A-Z][^\W\d_]+\.?(?:\s+[^\W_][\w'\u2019.\-]*){0,6}$")
# German-style compounds: "Luisenstr. 48", "Kirchgasse 6", "Berguvsvägen 8"
_STREET_COMPOUND_RE = re.compile(
    r"\w+(?:str\.?|straße|strasse|gasse|weg|platz|allee|ring|damm|gatan|vägen|vej|gade|katu|laan|straat)\b",
    re.IGNORECASE,
)
_HOUSE_NUMBER_RE = re.compile(r"(?:^|[\s,#])\d{1,5}[A-Za-z]?(?:[-/]\d{1,4})?(?:$|[\s,.])")

_NAME_WORD = r"[^\W\d_][^\W\d_'\u2019.\-]*(?:[-'\u2019][^\W\d_]+)*\.?"
_PERSON_RE = re.compile(rf"^{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}$")
_NAMEISH_RE = re.compile(rf"^{_NAME_WORD}(?:[\s,]+{_NAME_WORD}){{0,4}}$")
_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "herr", "frau", "mme", "mlle", "m", "sr", "sra"}
    | {"jr", "ii", "iii", "iv", "phd", "md", "dds", "dvm", "esq"}
)
_PARTICLES = frozenset({"van", "von", "de", "del", "della", "der", "den", "da", "di", "du", "la", "le", "y"})

_FIRST_NAME_LOCALES = (
    "en_US",
    "en_GB",
    "de_DE",
    "fr_FR",
    "es_ES",
    "es_MX",
    "it_IT",
    "pt_BR",
    "pt_PT",
    "nl_NL",
    "sv_SE",
    "da_DK",
    "no_NO",
    "fi_FI",
    "pl_PL",
)


@lru_cache(maxsize=1)
def _first_names() -> frozenset[str]:
    """Lower-cased first names of a few Faker locales (built once, lazily)."""
    import importlib

    names: set[str] = set()
    for locale in _FIRST_NAME_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except (ImportError, AttributeError):  # pragma: no cover - depends on the Faker version
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            for first in getattr(provider, attr, ()) or ():
                names.add(str(first).casefold())
    return frozenset(names)


def _is_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL_RE.match(value) is not None


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _is_credit_card(value: str) -> bool:
    from stdnum import luhn

    compact = re.sub(r"[\s-]", "", value)
    return compact.isdigit() and 13 <= len(compact) <= 19 and bool(luhn.is_valid(compact))


def _is_iban(value: str) -> bool:
    from stdnum import iban

    return any(c.isalpha() for c in value[:2]) and bool(iban.is_valid(value))


def _is_ssn(value: str) -> bool:
    from stdnum.us import ssn

    return _SSN_RE.match(value) is not None and bool(ssn.is_valid(value))


def _is_ip(value: str) -> bool:
    if not any(c in value for c in ".:"):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _phone_shape(value: str) -> bool:
    """Only phone characters, 7-15 digits, and not a date, a decimal number or an IPv4 address."""
    if _PHONE_CHARS_RE.match(value) is None or _DATE_RE.match(value) or _NUMBER_RE.match(value):
        return False
    main = re.split(r"(?i)\s*(?:x|ext\.?|#)\s*\d", value)[0]
    n = len(_digits(main))
    if not 7 <= n <= 15:
        return False
    return not re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", value.strip())


def _is_phone(value: str) -> bool:
    """A phone-formatted string that phonenumbers accepts as a possible number of some region."""
    import phonenumbers

    if not _phone_shape(value):
        return False
    stripped = value.strip()
    if _PHONE_FORMAT_RE.search(stripped) is None:  # a bare digit run is not evidence of a phone
        return False
    regions: Sequence[str | None] = (None,) if stripped.startswith("+") else _PHONE_REGIONS
    for region in regions:
        try:
            number = phonenumbers.parse(stripped, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return True
    return False


def _is_street_address(value: str) -> bool:
    if len(value) > 200 or not any(c.isalpha() for c in value):
        return False
    if _NUMBER_FIRST_RE.match(value) is not None:
        return True
    has_number = _HOUSE_NUMBER_RE.search(value) is not None
    has_street = _STREET_WORD_RE.search(value) is not None or _STREET_COMPOUND_RE.search(value) is not None
    return has_number and has_street


def _core_name(value: str) -> str:
    """A name without leading titles ("Dr.", "Herr") and trailing degrees ("B.Sc.", "Jr.", "III")."""
    words = value.split()
    while len(words) > 2 and (words[0].endswith(".") or words[0].casefold() in _TITLES):
        words = words[1:]
    while len(words) > 2 and ("." in words[-1] or words[-1].isupper() or words[-1].casefold() in _TITLES):
        words = words[:-1]
    return " ".join(words)


def _name_shaped(value: str) -> bool:
    core = _core_name(value)
    if _PERSON_RE.match(core) is None:
        return False
    words = core.split()
    return all(w[0].isupper() or w.casefold() in _PARTICLES for w in words) and words[0][0].isupper()


def _is_known_person(value: str) -> bool:
    return _name_shaped(value) and _core_name(value).split()[0].casefold() in _first_names()


def _nameish(value: str) -> bool:
    """Loosely a name: 1-5 alphabetic words (initials, particles and hyphens allowed)."""
    return len(value) <= 80 and _NAMEISH_RE.match(value) is not None


# ------------------------------------------------------------------------------------------------
# detection
# ------------------------------------------------------------------------------------------------


def _sample(values: Sequence[Any]) -> list[Any]:
    """Up to SAMPLE_SIZE distinct values in order of appearance, evenly spaced (deterministic)."""
    distinct = _distinct(values)
    if len(distinct) <= SAMPLE_SIZE:
        return distinct
    idx = np.linspace(0, len(distinct) - 1, SAMPLE_SIZE).round().astype(int)
    return [distinct[i] for i in idx]


def _share(sample: Sequence[str], check: Callable[[str], bool]) -> float:
    if not sample:
        return 0.0
    return sum(1 for v in sample if check(v)) / len(sample)


# strict content recognisers, in the order they are tried
_CONTENT: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("email", _is_email),
    ("iban", _is_iban),
    ("credit_card", _is_credit_card),
    ("national_id", _is_ssn),
    ("ip_address", _is_ip),
    ("phone_number", _is_phone),
    ("street_address", _is_street_address),
)


def _loose(pii_type: str, value: str) -> bool:
    """Does a value plausibly belong to a column whose *name* says it is of ``pii_type``?"""
    if pii_type == "email":
        return "@" in value
    if pii_type == "phone_number":
        return _phone_shape(value) or (value.strip().isdigit() and 7 <= len(value.strip()) <= 15)
    if pii_type == "credit_card":
        compact = re.sub(r"[\s-]", "", value)
        return compact.isdigit() and 12 <= len(compact) <= 19
    if pii_type == "iban":
        return _IBAN_LOOSE_RE.match(value.replace(" ", "").upper()) is not None
    if pii_type == "ip_address":
        return _is_ip(value)
    if pii_type == "national_id":
        return sum(c.isdigit() for c in value) >= 4 and len(value) <= 30
    if pii_type == "account_number":
        return sum(c.isdigit() for c in value) >= 6 and len(value) <= 34
    if pii_type in ("first_name", "last_name", "person_name"):
        return _nameish(value)
    if pii_type == "street_address":
        return any(c.isalpha() for c in value) and len(value) <= 200
    return False


# national ids whose digits carry a check (a date, check digits) that random numbers rarely pass:
# stdnum module -> number of digits (ids stored as numbers lose their leading zeros)
NATIONAL_ID_SCHEMES: dict[str, int] = {
    "nl.bsn": 9,
    "se.personnummer": 10,
    "no.fodselsnummer": 11,
    "pl.pesel": 11,
    "br.cpf": 11,
    "in_.aadhaar": 12,
    "fr.nir": 15,
}
MIN_DISTINCT_DIGITS = 10  # numbers are PII by content alone only with this many distinct values
MIN_DISTINCT_PHONES = 20  # phone numbers have no check digit: more values, mostly distinct
NATIONAL_PHONE_SHARE = 0.95  # of 10-digit numbers valid in the North American plan (random: ~46%)


def _scheme_valid(scheme: str, digits: str) -> bool:
    import importlib

    module = importlib.import_module(f"stdnum.{scheme}")
    length = NATIONAL_ID_SCHEMES[scheme]
    if len(digits) > length:
        return False
    try:
        return bool(module.is_valid(digits.zfill(length)))
    except Exception:  # a validator's own bug is not a match
        return False


def national_id_scheme(digits: Sequence[str]) -> str | None:
    """The national-id scheme (a ``stdnum`` module name) that most ``digits`` strings pass, or None."""
    for scheme, length in NATIONAL_ID_SCHEMES.items():
        valid = sum(1 for d in digits if length - 2 <= len(d) <= length and _scheme_valid(scheme, d))
        if digits and valid >= THRESHOLD * len(digits):
            return scheme
    return None


def _international_phone(digits: str) -> bool:
    """An E.164 number written without its ``+``: 11-15 digits, valid for its country code."""
    import phonenumbers

    if not 11 <= len(digits) <= 15:
        return False
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None)))
    except phonenumbers.NumberParseException:
        return False


def _national_phone(digits: str) -> bool:
    import phonenumbers

    if len(digits) != 10:
        return False
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(digits, "US")))
    except phonenumbers.NumberParseException:
        return False


def digits_pii(digits: Sequence[str], distinct_share: float) -> str | None:
    """The PII type of values that are bare digit strings (numbers, or text of digits only).

    Content alone decides only with ``MIN_DISTINCT_DIGITS`` distinct values and long digit runs:
    card numbers pass Luhn, national ids their scheme's check, phone numbers are valid numbers
    (E.164 without the ``+``, or 10-digit North American numbers at a stricter share) and mostly
    distinct.  Ordinary counts, measurements and 1..n keys are none of these.
    """
    if len(digits) < MIN_DISTINCT_DIGITS:
        return None
    if _share(digits, _is_credit_card) >= THRESHOLD:
        return "credit_card"
    if national_id_scheme(digits) is not None:
        return "national_id"
    if len(digits) >= MIN_DISTINCT_PHONES and distinct_share >= 0.5:
        if _share(digits, _international_phone) >= THRESHOLD:
            return "phone_number"
        if _share(digits, _national_phone) >= NATIONAL_PHONE_SHARE:
            return "phone_number"
    return None


def integer_digits(values: pd.Series) -> list[str] | None:
    """The non-null values as digit strings when all are non-negative whole numbers, else None.

    Integer dtypes are read exactly; floats only below 2**53, where they still hold whole numbers.
    """
    numbers = values.dropna()
    if numbers.empty:
        return None
    if pd.api.types.is_integer_dtype(numbers.dtype):
        ints = numbers.to_numpy()
        if (ints < 0).any():
            return None
        return [str(int(v)) for v in ints.tolist()]
    arr = numbers.to_numpy(dtype=float)
    if (
        not np.all(np.isfinite(arr))
        or np.any(arr < 0)
        or np.any(arr >= 2**53)
        or np.any(arr != np.round(arr))
    ):
        return None
    return [str(int(v)) for v in arr.tolist()]


def _numeric_pii(hint: str | None, values: pd.Series) -> str | None:
    """Numbers are PII under a strong name hint with the right number of digits, or by content."""
    digits = integer_digits(values)
    if digits is None:
        return None
    distinct = _distinct(digits)
    sample = _sample(distinct)
    if hint in ("national_id", "credit_card", "phone_number", "account_number"):
        lengths = {
            "national_id": (5, 9),  # an SSN read as a number loses leading zeros
            "credit_card": (13, 19),
            "phone_number": (7, 15),
            "account_number": (6, 20),
        }[hint]
        if _share(sample, lambda s: lengths[0] <= len(s) <= lengths[1]) >= THRESHOLD:
            return hint
    return digits_pii(sample, len(distinct) / len(digits))


def detect_pii(name: str, values: pd.Series) -> str | None:
    """The PII type of a column (one of ``PII_TYPES``) from its name and values, or None."""
    hint = _name_hint(name)
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return None
    if pd.api.types.is_timedelta64_dtype(dtype):
        return None
    if pd.api.types.is_numeric_dtype(dtype):
        return _numeric_pii(hint, values)
    present = values[~values.isna()]
    if present.empty:
        return None
    distinct = _distinct(present.tolist())
    strings = [v.strip() for v in _sample(distinct) if isinstance(v, str)]
    sample = [v for v in strings if v]
    if len(strings) < THRESHOLD * min(len(distinct), SAMPLE_SIZE) or not sample:
        return None
    distinct_share = len(distinct) / len(present)

    if hint is not None and _hint_holds(hint, sample, distinct_share):
        return hint
    for pii_type, check in _CONTENT:
        if pii_type in _WEAK_CONTENT and len(sample) < MIN_DISTINCT_WEAK:
            continue
        if _share(sample, check) >= THRESHOLD:
            return pii_type
    if all(v.isdigit() for v in sample):
        found = digits_pii(sample, distinct_share)
        if found is not None:
            return found
    if (
        len(sample) >= MIN_DISTINCT_WEAK
        and _share(sample, _name_shaped) >= THRESHOLD
        and _share(sample, _is_known_person) >= KNOWN_FIRST_NAME_SHARE
    ):
        return "person_name"
    return None


def _hint_holds(hint: str, sample: list[str], distinct_share: float) -> bool:
    if _share(sample, lambda v: _loose(hint, v)) < (THRESHOLD if hint in _NAME_TYPES else LOOSE_THRESHOLD):
        return False
    if hint == "person_name":
        return distinct_share > 0.5
    return True


_NAME_TYPES = frozenset({"first_name", "last_name", "person_name"})


def _distinct(values: Sequence[Any]) -> list[Any]:
    """Distinct values in order of appearance (unhashable values are kept as they are)."""
    try:
        return list(dict.fromkeys(values))
    except TypeError:
        return list(values)
