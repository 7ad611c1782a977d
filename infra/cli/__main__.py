"""``python -m infra.cli.main``: the same entry point as the ``barnflow`` script."""

import sys

from infra.cli.main import main

sys.exit(main())
