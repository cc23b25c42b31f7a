#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs Debian's chromium (for the
# browser tests of the HTML reports), creates .venv with the test extras, runs ruff,
# mypy and import-linter over archcost/ (ruff's mistake rules over tests/, benchmarks/
# and scripts/ too), then pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh -k zoo
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (Debian package) for the browser tests..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null \
      || echo "warning: could not install chromium; browser tests will be skipped"
  else
    echo "note: chromium is not installed and this user cannot apt-get it; browser tests will be skipped"
  fi
fi
scripts/setup.sh test
# Static checks first (seconds): lint, formatting, types, the layer contracts in pyproject.toml.
.venv/bin/ruff check archcost tests benchmarks scripts
.venv/bin/ruff format --check archcost
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
