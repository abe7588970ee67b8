#!/usr/bin/env bash
# Set up this checkout: a venv in .venv with signalgate installed into it (editable). Safe to run again.
#   scripts/setup.sh        development (check.sh): also the system packages the tests use (when root
#                           and missing: redis-server, dovecot, chromium, node) and the dev extra
#   scripts/setup.sh --run  only what `signalgate up` needs (run.sh): no system packages, no test tools
# pip runs only when pyproject.toml changed since the last successful install of that kind (a stamp
# in .venv); a development install also counts for --run.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=dev
case "${1:-}" in
  --run) mode=run ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--run]" >&2; exit 2 ;;
esac

if [ "$mode" = dev ]; then
  need=()
  command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools) # the cluster tests join nodes with redis-cli
  [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v node >/dev/null 2>&1 || need+=(nodejs) # node --test runs web/tests/
  # Japanese glyphs for the browser tests' screenshots (Debian's chromium has no CJK font of its own)
  [ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
  if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing ${need[*]}" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
      echo "setup: missing system packages (${need[*]}); install them with apt-get as root" >&2
    fi
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
    echo "setup: signalgate needs Python >= 3.11; $PY is $("$PY" --version 2>&1) (set PYTHON=...)" >&2
    exit 1
  }
  "$PY" -m venv .venv
fi

hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -x .venv/bin/signalgate ] && { [ "$(cat .venv/.signalgate-dev 2>/dev/null)" = "$hash" ] ||
  { [ "$mode" = run ] && [ "$(cat .venv/.signalgate-run 2>/dev/null)" = "$hash" ]; }; }; then
  exit 0 # installed from this very pyproject.toml: nothing to do
fi
target=.
[ "$mode" = dev ] && target=".[dev]"
echo "setup: installing signalgate${target#.} into .venv" >&2
# pip prints harmless "Location file:///... is ignored" warnings on these machines, and setuptools an
# information-only note on every editable install; drop both, keep pip's exit status.
pip_quiet() {
  PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip "$@" 2>&1 |
    { grep -v "is ignored: it is neither a file nor a directory" || true; }
}
pip_quiet install -q --upgrade pip
pip_quiet install -q -e "$target"
echo "$hash" >".venv/.signalgate-$mode"
