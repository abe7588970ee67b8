#!/usr/bin/env bash
# API fuzzing: start a real gateway on a throw-away redis-server, provision an org, a user and a
# user token, then run schemathesis against its /openapi.json twice — with the user token and with
# the operator token. Fails on any server error or response that breaks the document.
# Bounded: SG_FUZZ_SECONDS per run (default 75), so the whole script takes under ~3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
SECONDS_PER_RUN=${SG_FUZZ_SECONDS:-75}
WORK=$(mktemp -d -t sg-fuzz-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

port() { "$PY" -c "from gateway.devtools.net import free_port; print(free_port())"; }
REDIS_PORT=$(port)
GW_PORT=$(port)
BASE="http://127.0.0.1:$GW_PORT"
ADMIN="sga_fuzz_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
pids+=($!)
: >"$WORK/none.toml"
SIGNALGATE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" SIGNALGATE_GATEWAY_PORT="$GW_PORT" \
  SIGNALGATE_GATEWAY_PUBLIC_URL="$BASE" SIGNALGATE_GATEWAY_ADMIN_TOKEN="$ADMIN" \
  SIGNALGATE_GATEWAY_SECRET_KEY="fuzz-secret-key-for-tracking" SIGNALGATE_GATEWAY_LOG_LEVEL=warning \
  "$PY" -m gateway.cli --config "$WORK/none.toml" serve >"$WORK/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$BASE/healthz" >/dev/null || { cat "$WORK/gateway.log"; echo "fuzz: the gateway did not start" >&2; exit 1; }

api() { curl -fsS -X "$1" "$BASE$2" -H "Authorization: Bearer $ADMIN" -H "content-type: application/json" ${3:+-d "$3"}; }
api PUT /api/v1/orgs/fuzz '{"name": "Fuzz", "timezone": "Asia/Tokyo", "country": "JP"}' >/dev/null
api PUT /api/v1/orgs/fuzz/users/fu1 '{"name": "Fuzz User", "email": "fu1@example.com"}' >/dev/null
api PUT /api/v1/orgs/fuzz/contacts/fc1 '{"name": "Fuzz Contact", "owner": "fu1"}' >/dev/null
USER_TOKEN=$(api POST /api/v1/orgs/fuzz/users/fu1/tokens | "$PY" -c "import json,sys; print(json.load(sys.stdin)['token'])")

# Half the generated ids name the provisioned records, so the checks reach past 404.
cat >"$WORK/schemathesis.toml" <<'EOF'
[dictionaries.orgs]
values = ["fuzz"]
[dictionaries.users]
values = ["fu1"]
[dictionaries.contacts]
values = ["fc1"]
[parameters]
"path.org" = { dictionary = "orgs", probability = 0.5 }
"path.user" = { dictionary = "users", probability = 0.5 }
"path.contact" = { dictionary = "contacts", probability = 0.5 }
EOF

# One worker: with two, hypothesis describes filter lambdas by ast.parse-ing their source in two
# threads at once, which CPython 3.11 < 3.11.8 can fail with "SystemError: AST constructor recursion
# depth mismatch" (CPython gh-106905) — a runtime error in the fuzzer, not in the gateway.
CHECKS=${SG_FUZZ_CHECKS:-not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance}
status=0
for who in user operator; do
  token=$USER_TOKEN
  [ "$who" = operator ] && token=$ADMIN
  echo "== schemathesis as $who (${SECONDS_PER_RUN}s)"
  "$VENV/bin/st" --config-file "$WORK/schemathesis.toml" run "$BASE/openapi.json" \
    --header "Authorization: Bearer $token" --checks "$CHECKS" --max-time "$SECONDS_PER_RUN" \
    --workers 1 --seed "${SG_FUZZ_SEED:-1}" --request-timeout 10 --report junit \
    --report-junit-path "$WORK/junit-$who.xml" --output-truncate true ${SG_FUZZ_ARGS:-} || status=1
done
if [ "$status" != 0 ] && grep -q "Traceback" "$WORK/gateway.log"; then
  echo "== gateway log (tracebacks)" && grep -B2 -A25 "Traceback" "$WORK/gateway.log" | head -200
fi
exit "$status"
