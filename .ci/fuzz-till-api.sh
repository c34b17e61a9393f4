#!/usr/bin/env bash
# Fuzzes the till API from its own OpenAPI document (schemathesis, fixed seed, about a minute):
#   bash .ci/fuzz-till-api.sh path/to/qrpay
# Fails on any 5xx, a status or body the document does not list, a response that does not match
# its schema, or a request the document calls invalid that the server accepts. Left out:
# `positive_data_acceptance` — a request the schema allows may still be refused by the store's
# configuration (a customer QR sent to a payment type that cannot read one is a 422 by design).
# A long-poll (`wait` up to 60 s) answers late by design, hence the response-time limit of 65 s.
set -euo pipefail
BIN="${1:?path to the qrpay binary}"
SCHEMATHESIS_VERSION=4.32.5
# CPython before 3.11.8 / 3.12.2 kept the AST builder's recursion depth in one per-interpreter
# struct (gh-106905): two schemathesis workers parsing sources at once (hypothesis describes its
# lambdas from their source) can fail with "AST constructor recursion depth mismatch", a Runtime
# Error that fails the run although every case passed. Use an interpreter with the fix when the
# machine has one (pyenv's versions included); with only an older one, run a single worker.
python=""
for candidate in python3.13 python3.12 python3 "$(pyenv root 2>/dev/null)"/versions/3.1[2-9]*/bin/python3; do
  if "$candidate" -c 'import sys; v = sys.version_info; sys.exit(not (v >= (3, 12, 2) or (3, 11, 8) <= v < (3, 12)))' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
workers=2
if [ -z "$python" ]; then
  python=python3
  workers=1
  echo "note: no Python with the gh-106905 fix here; schemathesis runs one worker"
fi
echo "schemathesis runs on $("$python" --version) ($python), $workers worker(s)"
if ! "$python" -c "import schemathesis, sys; sys.exit(schemathesis.__version__ != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
  "$python" -m pip install -q --root-user-action=ignore "schemathesis==$SCHEMATHESIS_VERSION"
fi
work="$(mktemp -d -t qrpay-fuzz.XXXXXX)"
export QRPAY_DATABASE_URL="sqlite://$work/qrpay.db"
"$BIN" migrate >/dev/null
key="$("$BIN" till add --name fuzz | tail -n1)"
port=$((20000 + RANDOM % 20000))
"$BIN" serve --listen "127.0.0.1:$port" --ops-listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
cd "$work"  # schemathesis keeps a cache in the working directory
"$python" -m schemathesis.cli run "http://127.0.0.1:$port/api/v1/openapi.json" \
  -H "Authorization: Bearer $key" \
  --checks all --exclude-checks positive_data_acceptance \
  --seed 1 --max-time 60 --workers "$workers" --request-timeout 70 --max-response-time 65 --max-failures 20 \
  --no-color
