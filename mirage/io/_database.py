"""Databases as sources and sinks, through SQLAlchemy: SQLite (``sqlite:///path``) and PostgreSQL
(``postgresql://user@host:port/db``, driven by psycopg 3).

Reading reflects every table with its primary key, unique constraints, foreign keys (composite too)
and column SQL types, and streams the rows in chunks.  Writing creates the same tables with their
keys declared and enforced (SQLite gets ``PRAGMA foreign_keys=ON`` on every connection), inserts the
rows parents first in chunks, and does it all in one transaction: a failure leaves the target as it
was.  A target that already has tables is refused unless ``force``; the database the tables were read
from is refused always.  SQLAlchemy is imported only when a database is used.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mirage._warnings import warn
from mirage.errors import DataError, MissingDependencyError, OptionError, OutputExistsError, SchemaError
from mirage.io._keys import SOURCE_ATTR, keyed_schema
from mirage.io._read import _normalise as normalise_text
from mirage.schema import DatabaseSchema, ForeignKey, Kind, Schema, Table
from mirage.schema._datetimes import parse_format, read_datetimes

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = [
    "database_values",
    "is_database_url",
    "read_database",
    "sql_types_of",
    "write_database",
    "write_table_chunks",
]

_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "sqlite": "sqlite"}


def is_database_url(text: str) -> bool:
    """Whether ``text`` looks like a database URL (``scheme://...``) rather than a file path."""
    return bool(_URL_RE.match(str(text)))


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise MissingDependencyError(
            "reading and writing databases needs SQLAlchemy: pip install sqlalchemy"
        ) from None
    return sqlalchemy


def _url(text: str) -> sa.URL:
    sa = _sqlalchemy()
    try:
        url = sa.engine.make_url(str(text))
    except (sa.exc.ArgumentError, ValueError):
        raise DataError(
            f"{text!r} is not a database URL (expected sqlite:///path/to/file.db or "
            "postgresql://user@host:port/database)"
        ) from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DataError(f"{shown(url)}: only sqlite:// and postgresql:// databases are supported")
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    return url


def shown(url: sa.URL | str) -> str:
    """The URL as a message shows it: the password hidden, the driver as the user wrote it."""
    if isinstance(url, str):
        return url
    text: str = url.render_as_string(hide_password=True)
    return text.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlite_path(url: sa.URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def source_id(url: sa.URL) -> str:
    """The same text for two URLs that name the same database (to refuse writing into a source)."""
    path = _sqlite_path(url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:{path.resolve() if path is not None else url.database}"
    host = (url.host or "localhost").lower()
    host = "127.0.0.1" if host in ("localhost", "::1") else host
    return f"postgresql://{host}:{url.port or 5432}/{url.database or url.username or ''}"


def _engine(url: sa.URL) -> sa.Engine:
    sa = _sqlalchemy()
    try:
        engine = sa.create_engine(url)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise MissingDependencyError(
            f"{shown(url)}: the PostgreSQL driver is missing ({exc}); pip install 'mirage-synth[postgres]'"
        ) from None
    if url.get_backend_name() == "sqlite":
        _sqlite_transactions(engine)
    return engine


def _sqlite_transactions(engine: sa.Engine) -> None:
    """Foreign keys enforced on every connection, and BEGIN issued by SQLAlchemy so that CREATE TABLE
    is part of the transaction too (the sqlite3 module otherwise commits DDL at once)."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


@contextlib.contextmanager
def _connected(engine: sa.Engine, url: sa.URL) -> Iterator[sa.Connection]:
    sa = _sqlalchemy()
    try:
        connection = engine.connect()
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise DataError(f"cannot connect to {shown(url)}: {reason}") from None
    try:
        yield connection
    finally:
        connection.close()


# reading -----------------------------------------------------------------------------------------


def _read_rows(
    connection: sa.Connection, name: str, columns: list[str], booleans: list[str], chunk_size: int
) -> pd.DataFrame:
    """The rows of table ``name``, fetched ``chunk_size`` at a time; ``booleans``: columns declared
    BOOLEAN, which SQLite returns as 0/1."""
    sa = _sqlalchemy()
    query = sa.select(*[sa.column(c) for c in columns]).select_from(sa.table(name))
    if connection.dialect.name == "postgresql":
        connection = connection.execution_options(stream_results=True, max_row_buffer=chunk_size)
    chunks = list(pd.read_sql_query(query, connection, chunksize=chunk_size))
    chunks = [chunk for chunk in chunks if len(chunk)]
    if not chunks:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    for column in booleans:
        values = frame[column]
        if values.dtype != bool and values.dropna().isin([0, 1]).all():
            flags: Any = values.map(lambda v: None if pd.isna(v) else bool(v))
            frame[column] = flags.astype(bool) if flags.notna().all() else flags.astype(object)
    return normalise_text(frame)


def _sql_type(column: Mapping[str, Any], dialect: Any) -> str | None:
    try:
        text = str(column["type"].compile(dialect=dialect))
    except Exception:  # NullType and types the dialect cannot spell: the DDL falls back to the dtype
        return None
    return text or None


def _is_boolean(sql_type: Any) -> bool:
    sa = _sqlalchemy()
    return isinstance(sql_type, sa.Boolean)


def _reflect_table(inspector: Any, name: str, dialect: Any) -> dict[str, Any]:
    columns = inspector.get_columns(name)
    primary = tuple(inspector.get_pk_constraint(name).get("constrained_columns") or ())
    unique = [tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)]
    # SQLite keeps a column's inline UNIQUE only as an automatic index
    automatic = {"include_auto_indexes": True} if dialect.name == "sqlite" else {}
    indexes = inspector.get_indexes(name, **automatic)
    unique += [tuple(i["column_names"]) for i in indexes if i.get("unique")]
    unique = list(dict.fromkeys(u for u in unique if u and u != primary and None not in u))
    return {
        "columns": [str(c["name"]) for c in columns],
        "nullable": {str(c["name"]): bool(c.get("nullable", True)) for c in columns},
        "sql_types": {str(c["name"]): t for c in columns if (t := _sql_type(c, dialect)) is not None},
        "booleans": [str(c["name"]) for c in columns if _is_boolean(c["type"])],
        "primary_key": primary,
        "unique": unique,
        "foreign_keys": inspector.get_foreign_keys(name),
    }


def _foreign_keys(name: str, reflected: dict[str, dict[str, Any]]) -> list[ForeignKey]:
    found = []
    table = reflected[name]
    for fk in table["foreign_keys"]:
        parent = fk.get("referred_table")
        columns = tuple(fk.get("constrained_columns") or ())
        if parent not in reflected or not columns:
            warn(f"table {name!r}: foreign key to {parent!r} left out (not a table of this database)")
            continue
        parent_columns = tuple(fk.get("referred_columns") or ()) or reflected[parent]["primary_key"]
        keys = [reflected[parent]["primary_key"], *reflected[parent]["unique"]]
        if tuple(parent_columns) not in keys:
            warn(
                f"foreign key {name}({', '.join(columns)}) -> {parent}({', '.join(parent_columns)}) left "
                "out: the parent columns are neither its primary key nor unique"
            )
            continue
        nullable = any(table["nullable"].get(c, True) for c in columns)
        found.append(ForeignKey(name, columns, parent, tuple(parent_columns), nullable=nullable))
    return found


def read_database(
    url: str, *, chunk_size: int = 50_000, locale: str | None = None
) -> tuple[DatabaseSchema, dict[str, pd.DataFrame]]:
    """Every table of the database at ``url`` and its :class:`DatabaseSchema`.

    The schema holds the reflected primary keys, unique constraints, foreign keys (nullable where a
    key column is) and each column's SQL type (``Table.sql_types``); column kinds are inferred from
    the values, key columns as identifiers.  Rows are read ``chunk_size`` at a time.  Raises
    ``DataError`` naming the URL when it is not a database URL, the file does not exist or the server
    cannot be reached.
    """
    sa = _sqlalchemy()
    _check_chunk_size(chunk_size)
    parsed = _url(url)
    path = _sqlite_path(parsed)
    if parsed.get_backend_name() == "sqlite" and (path is None or not path.is_file()):
        what = "names no file" if path is None else "does not exist"
        raise DataError(f"{shown(parsed)}: database file {str(path or parsed.database)!r} {what}")
    engine = _engine(parsed)
    try:
        with _connected(engine, parsed) as connection:
            try:
                inspector = sa.inspect(connection)
                names = [str(n) for n in inspector.get_table_names()]
                reflected = {n: _reflect_table(inspector, n, connection.dialect) for n in names}
                frames = {
                    n: _read_rows(
                        connection, n, reflected[n]["columns"], reflected[n]["booleans"], chunk_size
                    )
                    for n in names
                }
            except sa.exc.DBAPIError as exc:
                raise DataError(f"cannot read {shown(parsed)}: {_reason(exc)}") from None
    finally:
        engine.dispose()
    if not names:
        raise DataError(f"{shown(parsed)} has no tables")
    source = source_id(parsed)
    foreign_keys = [fk for n in names for fk in _foreign_keys(n, reflected)]
    tables = {}
    for name in names:
        info = reflected[name]
        keys = [*info["primary_key"], *(c for u in info["unique"] for c in u)]
        keys += [c for fk in foreign_keys if fk.child == name for c in fk.columns]
        frames[name].attrs[SOURCE_ATTR] = source
        tables[name] = Table(
            name=name,
            schema=keyed_schema(frames[name], keys, locale=locale, table=name),
            primary_key=info["primary_key"],
            unique=info["unique"],
            sql_types=info["sql_types"],
            not_null=tuple(
                c
                for c in info["columns"]
                if not info["nullable"].get(c, True) and c not in info["primary_key"]
            ),
        )
    try:
        database = DatabaseSchema(tables=tables, foreign_keys=foreign_keys)
    except SchemaError as exc:
        raise SchemaError(f"{shown(parsed)}: {exc}") from None
    return database, frames


def _check_chunk_size(chunk_size: int) -> None:
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise OptionError(f"chunk_size must be a positive number of rows, got {chunk_size!r}")


def _reason(exc: Any) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# writing -----------------------------------------------------------------------------------------

_ARGUMENTS = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")


def _type_from_sql(text: str) -> Any:
    """A SQLAlchemy type for a reflected SQL type name, spelt right by either dialect; None if unknown."""
    sa = _sqlalchemy()
    arguments = _ARGUMENTS.search(text)
    name = " ".join(_ARGUMENTS.sub(" ", text).upper().split())
    size = int(arguments.group(1)) if arguments else None
    scale = int(arguments.group(2)) if arguments and arguments.group(2) else None
    if name in ("VARCHAR", "CHARACTER VARYING", "NVARCHAR", "VARCHAR2", "STRING"):
        return sa.String(size)
    if name in ("CHAR", "CHARACTER", "NCHAR", "BPCHAR"):
        return sa.CHAR(size)
    if name in ("NUMERIC", "DECIMAL"):
        return sa.Numeric(size, scale)
    if name == "UUID":  # SQLite has no UUID type: text in the canonical 36-character form
        return sa.String(36).with_variant(sa.Uuid(as_uuid=False), "postgresql")
    if name in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return sa.DateTime(timezone=True)
    simple = {
        "INT": sa.Integer,
        "INTEGER": sa.Integer,
        "INT4": sa.Integer,
        "MEDIUMINT": sa.Integer,
        "SERIAL": sa.Integer,
        "BIGINT": sa.BigInteger,
        "INT8": sa.BigInteger,
        "BIGSERIAL": sa.BigInteger,
        "SMALLINT": sa.SmallInteger,
        "INT2": sa.SmallInteger,
        "TINYINT": sa.SmallInteger,
        "REAL": sa.REAL,
        "FLOAT4": sa.REAL,
        "FLOAT": sa.Float,
        "DOUBLE": sa.Double,
        "DOUBLE PRECISION": sa.Double,
        "FLOAT8": sa.Double,
        "TEXT": sa.Text,
        "CLOB": sa.Text,
        "BOOLEAN": sa.Boolean,
        "BOOL": sa.Boolean,
        "DATE": sa.Date,
        "DATETIME": sa.DateTime,
        "TIMESTAMP": sa.DateTime,
        "TIMESTAMP WITHOUT TIME ZONE": sa.DateTime,
        "TIME": sa.Time,
        "TIME WITHOUT TIME ZONE": sa.Time,
        "BLOB": sa.LargeBinary,
        "BYTEA": sa.LargeBinary,
    }
    kind = simple.get(name)
    return kind() if kind is not None else None


def _type_from_dtype(values: pd.Series) -> Any:
    sa = _sqlalchemy()
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(dtype):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(dtype):
        present = values.dropna().to_numpy(dtype="float64")
        finite = bool(np.all(np.isfinite(present)))
        whole = present.size > 0 and finite and bool(np.all(present == np.round(present)))
        return sa.BigInteger() if whole else sa.Double()
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return sa.DateTime(timezone=getattr(dtype, "tz", None) is not None)
    return sa.Text()


def _column_type(table: Table, column: str, values: pd.Series) -> Any:
    text = table.sql_types.get(column)
    found = _type_from_sql(text) if text else None
    return found if found is not None else _type_from_dtype(values)


def _metadata(database: DatabaseSchema, frames: Mapping[str, pd.DataFrame]) -> sa.MetaData:
    sa = _sqlalchemy()
    metadata = sa.MetaData()
    types = {
        (name, column): _column_type(table, column, frames[name][column])
        for name, table in database.tables.items()
        for column in table.schema.names
    }
    # a foreign key column without a declared type takes its parent key's, so that the two compare
    for fk in database.foreign_keys:
        for column, parent_column in zip(fk.columns, fk.parent_columns, strict=True):
            if column not in database[fk.child].sql_types:
                types[(fk.child, column)] = types[(fk.parent, parent_column)]
    deferred = set(database.deferred())
    for name in database.order():
        table = database[name]
        required = set(table.primary_key) | set(table.not_null)
        required.update(c for fk in database.parents(name) if not fk.nullable for c in fk.columns)
        columns = [sa.Column(c, types[(name, c)], nullable=c not in required) for c in table.schema.names]
        constraints: list[Any] = []
        if table.primary_key:
            constraints.append(sa.PrimaryKeyConstraint(*table.primary_key))
        constraints += [sa.UniqueConstraint(*u) for u in table.unique]
        for fk in database.parents(name):
            later = {"deferrable": True, "initially": "DEFERRED"} if fk in deferred else {}
            targets = [f"{fk.parent}.{c}" for c in fk.parent_columns]
            constraints.append(sa.ForeignKeyConstraint(list(fk.columns), targets, **later))
        sa.Table(name, metadata, *columns, *constraints)
    return metadata


def _python(value: Any, sqlite: bool) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ") if sqlite else value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_bool(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "t", "f", "1", "0"):
        return value.strip().lower() in ("true", "t", "1")
    return value


def _rows(frame: pd.DataFrame, converters: Mapping[str, Any], sqlite: bool) -> list[dict[str, Any]]:
    columns: dict[str, list[Any]] = {}
    for name in frame.columns:
        values = [_python(v, sqlite) for v in frame[name].tolist()]
        convert = converters.get(str(name))
        columns[str(name)] = values if convert is None else [convert(v) for v in values]
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _as_date(value: Any) -> Any:
    if isinstance(value, str) and value.endswith(" 00:00:00"):
        return value[: -len(" 00:00:00")]
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _as_int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _existing_tables(connection: sa.Connection) -> list[str]:
    sa = _sqlalchemy()
    return [str(n) for n in sa.inspect(connection).get_table_names()]


def write_database(
    url: str,
    database: DatabaseSchema,
    frames: Mapping[str, pd.DataFrame],
    *,
    force: bool = False,
    chunk_size: int = 10_000,
    sources: Sequence[str] = (),
) -> None:
    """Write ``frames`` as a new database at ``url`` with the tables, keys and constraints of
    ``database``.

    Column types come from ``Table.sql_types`` where known, else from the dtypes.  Primary, unique and
    foreign keys are declared, so the database itself rejects a broken key (keys that
    ``database.deferred()`` lists are checked at commit).  Rows go in parents first, ``chunk_size`` at
    a time, in one transaction: on any failure nothing is left behind.  Refuses (``OutputExistsError``)
    a target that already has tables unless ``force`` (which replaces the tables of the same names),
    and always the database the frames were read from (recorded by :func:`read_database`) or any of
    ``sources`` (database URLs the data was learned from).
    """
    _check_chunk_size(chunk_size)
    database.validate(frames)
    parsed = _url(url)
    target = source_id(parsed)
    for name, frame in frames.items():
        if frame.attrs.get(SOURCE_ATTR) == target:
            raise OutputExistsError(
                f"{shown(parsed)} is the database table {name!r} was read from; write to a new database"
            )

    def fill(connection: sa.Connection, sqlite: bool) -> None:
        metadata = _metadata(database, frames)
        metadata.create_all(connection)
        for name in database.order():
            _insert(connection, metadata.tables[name], frames[name], chunk_size, sqlite)

    _write_new(parsed, list(database.tables), sources, force, fill)


def write_table_chunks(
    url: str,
    table: Table,
    chunks: Iterable[pd.DataFrame],
    *,
    force: bool = False,
    chunk_size: int = 10_000,
    sources: Sequence[str] = (),
) -> int:
    """Stream ``chunks`` (frames with ``table``'s columns) into a new table of a new database at ``url``;
    return the number of rows written.

    Column types come from ``table.sql_types``, then from the first chunk's dtypes.  Everything goes in
    one transaction, as :func:`write_database` does, with the same refusals.
    """
    _check_chunk_size(chunk_size)
    parsed = _url(url)
    written = 0

    def fill(connection: sa.Connection, sqlite: bool) -> None:
        nonlocal written
        remaining = iter(chunks)
        first = next(remaining, None)
        if first is None:
            first = pd.DataFrame({name: pd.Series(dtype=object) for name in table.schema.names})
        database = DatabaseSchema({table.name: table}, [])
        metadata = _metadata(database, {table.name: first})
        metadata.create_all(connection)
        for chunk in itertools.chain([first], remaining):
            _insert(connection, metadata.tables[table.name], chunk, chunk_size, sqlite)
            written += len(chunk)

    _write_new(parsed, [table.name], sources, force, fill)
    return written


_TIME_OF_DAY = re.compile(r"%[HIMSfpXcT]")


def sql_types_of(schema: Schema) -> dict[str, str]:
    """SQL types a learned schema fixes whatever the values of one chunk look like: whole or real numbers,
    booleans, and dates (``DATE`` when the source's format has no time of day)."""
    types: dict[str, str] = {}
    for column in schema.columns:
        if column.kind is Kind.NUMERIC:
            types[column.name] = "BIGINT" if column.integer else "DOUBLE PRECISION"
        elif column.kind is Kind.BOOLEAN:
            types[column.name] = "BOOLEAN"
        elif column.kind is Kind.DATETIME and column.datetime_format is not None:
            text = parse_format(column.datetime_format)
            if "%z" in text:
                types[column.name] = "TIMESTAMP WITH TIME ZONE"
            else:
                types[column.name] = "DATETIME" if _TIME_OF_DAY.search(text) else "DATE"
    return types


def database_values(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """``frame`` with dates that a schema writes as text in their source's format (``31.12.2023``) parsed
    back, so that a database stores them as dates."""
    for column in schema.columns:
        if column.kind is Kind.DATETIME and column.datetime_format is not None and column.name in frame:
            parsed = read_datetimes(frame[column.name], column.datetime_format)
            frame = frame.assign(**{column.name: parsed})
    return frame


def _write_new(
    parsed: sa.URL,
    names: Sequence[str],
    sources: Sequence[str],
    force: bool,
    fill: Callable[[sa.Connection, bool], None],
) -> None:
    """Run ``fill`` in one transaction on the database at ``parsed``, after the refusals every write
    shares; a SQLite file this call created is removed again when ``fill`` fails."""
    sa = _sqlalchemy()
    target = source_id(parsed)
    for source in sources:
        if is_database_url(source) and source_id(_url(source)) == target:
            raise OutputExistsError(f"{shown(parsed)} is the source database; write to a new database")
    path = _sqlite_path(parsed)
    created_file = False
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        if path is None:
            raise DataError(f"{shown(parsed)}: give a database file path (sqlite:///path/to/file.db)")
        if not path.parent.is_dir():
            raise DataError(f"cannot write {shown(parsed)}: folder '{path.parent}' does not exist")
        created_file = not path.exists()
    engine = _engine(parsed)
    try:
        with _connected(engine, parsed) as connection:
            existing = _existing_tables(connection)
            connection.rollback()  # end the inspection's transaction: the write gets its own
            if existing and not force:
                raise OutputExistsError(
                    f"{shown(parsed)} already has tables (such as {existing[0]!r}); pass force=True to "
                    "replace the tables of the same names"
                )
            try:
                with connection.begin():
                    _replace(connection, [n for n in existing if n in names])
                    fill(connection, sqlite)
            except sa.exc.DBAPIError as exc:
                raise DataError(f"cannot write {shown(parsed)}: {_reason(exc)}") from None
    except BaseException:
        engine.dispose()
        if created_file and path is not None:
            path.unlink(missing_ok=True)
            Path(f"{path}-journal").unlink(missing_ok=True)
        raise
    engine.dispose()


def _replace(connection: sa.Connection, names: list[str]) -> None:
    if not names:
        return
    sa = _sqlalchemy()
    existing = sa.MetaData()
    existing.reflect(connection, only=names)
    existing.drop_all(connection)


def _insert(
    connection: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk_size: int, sqlite: bool
) -> None:
    sa = _sqlalchemy()
    names = [c.name for c in table.columns]
    # values as the column's type takes them: whole floats (an integer column with nulls) as integers,
    # 0/1 as booleans (SQLite stores booleans as integers), dates without a time of day
    converters: dict[str, Any] = {}
    for column in table.columns:
        if isinstance(column.type, sa.Boolean):
            converters[column.name] = _as_bool
        elif isinstance(column.type, sa.Integer):
            converters[column.name] = _as_int
        elif isinstance(column.type, sa.Date) and not isinstance(column.type, sa.DateTime):
            converters[column.name] = _as_date
    statement = sa.table(table.name, *[sa.column(n) for n in names]).insert()
    for start in range(0, len(frame), chunk_size):
        rows = _rows(frame.iloc[start : start + chunk_size][names], converters, sqlite)
        connection.execute(statement, rows)
