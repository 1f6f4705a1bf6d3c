"""Data without real data: tables generated from a declared spec (YAML or JSON).

A spec declares tables, row counts or children per parent row, columns with a distribution, a formula,
bins, a provider (Faker) or an identifier pattern, a Gaussian copula between columns, conditional
distributions, nulls, keys and the business rules of :mod:`mirage.control`.  See the README's section
"Data from a spec" and ``spec.schema.json`` beside this file.
"""

from mirage.spec._check import Check, SpecReport, check_spec, read_spec_data
from mirage.spec._examples import EXAMPLES, example_path, resolve_spec_path
from mirage.spec._export import spec_from_model, spec_from_schema, write_spec
from mirage.spec._generate import BLOCK_ROWS, generate, generate_chunks
from mirage.spec._spec import SPEC_VERSION, Spec, load_spec, spec_from_dict

__all__ = [
    "BLOCK_ROWS",
    "Check",
    "EXAMPLES",
    "SPEC_VERSION",
    "Spec",
    "SpecReport",
    "check_spec",
    "example_path",
    "generate",
    "generate_chunks",
    "load_spec",
    "read_spec_data",
    "resolve_spec_path",
    "spec_from_dict",
    "spec_from_model",
    "spec_from_schema",
    "write_spec",
]
