"""Reading and writing tables: CSV/TSV, Parquet, JSON Lines and Excel, with atomic writes."""

from mirage.io._atomic import atomic_path
from mirage.io._read import read_any, read_table
from mirage.io._write import write_chunks, write_table

__all__ = ["atomic_path", "read_any", "read_table", "write_chunks", "write_table"]
