#!/usr/bin/env bash
# Quickstart: set up, then run everything in one process with a private Redis and the demo org.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/signalgate --config config.toml up --demo "$@"
