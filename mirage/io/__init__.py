"""Reading and writing tables: CSV/TSV, Parquet, JSON Lines and Excel, with atomic writes; databases
(SQLite, PostgreSQL) and folders of files as sets of related tables."""

from mirage.io._atomic import atomic_path
from mirage.io._database import (
    database_values,
    is_database_url,
    read_database,
    sql_types_of,
    write_database,
    write_table_chunks,
)
from mirage.io._folder import read_folder, write_folder
from mirage.io._keys import infer_database_schema
from mirage.io._read import read_any, read_table
from mirage.io._write import dialect_as_read, output_dialect, write_chunks, write_csv_stream, write_table

__all__ = [
    "atomic_path",
    "database_values",
    "infer_database_schema",
    "is_database_url",
    "dialect_as_read",
    "output_dialect",
    "read_any",
    "read_database",
    "read_folder",
    "read_table",
    "sql_types_of",
    "write_chunks",
    "write_csv_stream",
    "write_database",
    "write_folder",
    "write_table",
    "write_table_chunks",
]
