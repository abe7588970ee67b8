#!/usr/bin/env bash
# Quickstart: install what `signalgate up` needs (once; again only when pyproject.toml changes), then
# run everything in one process with a private Redis and the demo org (provisioned once: a restart
# adds nothing to the feed).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --run
exec .venv/bin/signalgate --config config.toml up --demo "$@"
