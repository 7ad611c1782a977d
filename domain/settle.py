"""The alert settle window's default, in a module of its own.

An expired frist is alerted only once no command has arrived for this long (docs/workflow.md,
"Timers and alerts"); ``BARNFLOW_ALERT_SETTLE_SECONDS`` overrides it. The settings read it
without importing ``workflows.messages`` (and with it Temporal's exception and gRPC modules), so
a store-only command such as ``barnflow report`` starts faster (docs/operations.md "CLI start-up").
"""

from __future__ import annotations

DEFAULT_ALERT_SETTLE_SECONDS = 300.0
