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
# The browser tests leave their screenshots (every view, ja/en, 1280/390 px) in the run's output
# folder: test-output/screenshots/ (SG_SCREENSHOTS_DIR overrides it).
rm -rf "${SG_SCREENSHOTS_DIR:-test-output/screenshots}"
echo "== pytest" && python -m pytest "$@"
shots="${SG_SCREENSHOTS_DIR:-test-output/screenshots}"
[ -d "$shots" ] && echo "== screenshots: $(find "$shots" -name '*.png' | wc -l) in $shots/"
echo "== schemathesis (scripts/fuzz.sh)" && ./scripts/fuzz.sh
