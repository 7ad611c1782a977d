#!/usr/bin/env bash
# The date-sensitive tests under a moved test clock (BARNFLOW_TEST_CLOCK, see tests/conftest.py).
#
#   tests/clock_runs.sh            the full matrix: real clock, 00:03, 00:30, 23:59 (Stockholm,
#                                  today's real date) and 2028-02-29T00:30 / 23:59 (leap day)
#   tests/clock_runs.sh --quick    pure domain + time-skipping tests at 00:30 and on the leap day
#                                  (what .ci/run adds; about a minute on 2 cores)
#   CLOCKS="00:30 23:59" tests/clock_runs.sh    chosen clocks; extra args go to pytest
#
# Only Python sees the moved clock. Same-date shifts (HH:MM) keep the legal date the Temporal
# dev server and PostgreSQL see, so every test here runs; the time-skipping server is moved
# along at fixture start; under a shift to another date (the leap day) the dev-server tests
# (fixture dev_temporal, marker real_clock) are skipped, and pytest's -rfEs lines say so.
# Exits non-zero if any run fails; prints one summary line per clock.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=${PYTEST:-.venv/bin/pytest}

QUICK_TESTS=(tests/test_clock.py tests/domain tests/workflows/test_frist_timers.py
  tests/workflows/test_case_paths.py tests/workflows/test_alerts.py)
FULL_TESTS=(tests/test_clock.py tests/domain tests/golden tests/workflows
  tests/api/test_e2e.py tests/api/test_bad_inputs.py tests/ops/test_positions.py
  tests/ops/test_stuck.py tests/ops/test_stuck_store.py tests/audit/test_verify.py
  tests/audit/test_verify_temporal.py tests/audit/test_case.py tests/integration/test_dev_server.py
  tests/api/test_rules_preview.py tests/ops/test_repair_targets.py tests/projections/test_month_end.py)

if [ "${1:-}" = "--quick" ]; then
  shift
  tests=("${QUICK_TESTS[@]}")
  clocks=${CLOCKS:-"00:30 2028-02-29T23:59"}
else
  tests=("${FULL_TESTS[@]}")
  clocks=${CLOCKS:-"real 00:03 00:30 23:59 2028-02-29T00:30 2028-02-29T23:59"}
fi

status=0
summary=()
for clock in $clocks; do
  value=$clock
  [ "$clock" = real ] && value=""
  echo "== BARNFLOW_TEST_CLOCK=${value:-<real>} $PYTEST -q --timeout 300 -rfEs ${tests[*]} $*"
  log=$(mktemp)
  BARNFLOW_TEST_CLOCK=$value "$PYTEST" -q --timeout 300 -rfEs -p no:cacheprovider "${tests[@]}" "$@" \
    2>&1 | tee "$log" | grep -E '^(FAILED|ERROR|SKIPPED)'
  rc=${PIPESTATUS[0]}
  result=$(grep -E '^=* ?[0-9]+ [a-z]+.* in [0-9.]+s' "$log" | tail -1 | tr -d '=')
  rm -f "$log"
  summary+=("clock ${clock}: ${result:-no result} (exit $rc)")
  [ "$rc" -ne 0 ] && status=1
done
printf '%s\n' "${summary[@]}"
exit $status
