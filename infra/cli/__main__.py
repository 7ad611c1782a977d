"""``python -m infra.cli``: the same entry point as the ``barnflow`` script."""

from infra.cli.main import entry

entry()
