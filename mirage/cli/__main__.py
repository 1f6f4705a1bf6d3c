"""``python -m mirage.cli``: the ``mirage`` command."""

from mirage.cli import main

main()
