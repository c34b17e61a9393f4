# Shared by the bench scripts (source it): a fresh qrpay database and instances on it, all
# removed when the script exits.
#
#   bench_db BIN sqlite|postgres   a fresh database (a SQLite file, or a new PostgreSQL database
#                                  on 127.0.0.1), migrated, with a till: exports
#                                  QRPAY_DATABASE_URL; the till's key in $bench_key
#   bench_serve BIN PORT           `BIN serve` on 127.0.0.1:PORT (/metrics on PORT+1000), once it
#                                  answers /healthz
bench_work=$(mktemp -d)
bench_pids=()
bench_pg_db=
bench_cleanup() {
  for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$bench_work"
  if [ -n "$bench_pg_db" ]; then
    psql -h 127.0.0.1 -U postgres -qAt -c "drop database if exists $bench_pg_db" >/dev/null 2>&1 || true
  fi
}
trap bench_cleanup EXIT
export RUST_LOG=warn QRPAY_OPS_LISTEN=127.0.0.1:0

bench_db() {
  local bin=$1 backend=$2
  if [ "$backend" = postgres ]; then
    bench_pg_db="qrpay_bench_$$"
    psql -h 127.0.0.1 -U postgres -qAt -c "create database $bench_pg_db" >/dev/null
    export QRPAY_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$bench_pg_db"
  else
    export QRPAY_DATABASE_URL="sqlite://$bench_work/qrpay.db"
  fi
  "$bin" migrate >/dev/null 2>&1
  bench_key=$("$bin" till add --name bench 2>/dev/null | tail -n1)
}

bench_serve() {
  local bin=$1 port=$2
  QRPAY_OPS_LISTEN="127.0.0.1:$((port + 1000))" "$bin" serve --listen "127.0.0.1:$port" \
    >"$bench_work/serve$port.log" 2>&1 &
  bench_pids+=($!)
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "qrpay on port $port did not start: see $bench_work/serve$port.log" >&2
  return 1
}
