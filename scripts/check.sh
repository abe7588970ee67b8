#!/usr/bin/env bash
# The one check: set up, then format check, lint, types, the layer contract, the page's unit
# tests (node), tests, then schemathesis against a running gateway (scripts/fuzz.sh).
# CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
echo "== ruff format --check" && ruff format --check .
echo "== ruff check" && ruff check .
echo "== mypy --strict" && mypy
echo "== lint-imports (layers, no cycles)" && lint-imports --no-cache
echo "== node --test" && node --test web/tests/
echo "== pytest" && python -m pytest "$@"
echo "== schemathesis (scripts/fuzz.sh)" && ./scripts/fuzz.sh
