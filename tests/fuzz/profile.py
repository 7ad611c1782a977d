"""How hard the fuzz tests try: bounded in the normal test run, much longer on request.

``BARNFLOW_FUZZ=long .venv/bin/pytest tests/fuzz`` runs ~100x the examples (tens of minutes).
The settings are applied per test (not as a global profile) so the other property tests of the
suite keep Hypothesis's defaults.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_LONG = os.environ.get("BARNFLOW_FUZZ") == "long"


def fuzz_settings(examples: int) -> settings:
    """``examples`` in the normal run (sized to keep tests/fuzz ~20-40 s on 2 cores)."""
    return settings(
        max_examples=examples * 100 if _LONG else examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
