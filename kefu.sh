#!/usr/bin/env bash
# Kefu's two commands (see README):
#   ./kefu.sh run    set up (venv from the lock file, database, demo data) and run web server + worker
#   ./kefu.sh test   lint, type-check, import contract, then the test suite on SQLite and on PostgreSQL
# Other verbs: setup, bench, manage ARGS...
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
export DJANGO_SETTINGS_MODULE=config.settings
export PYTHONDONTWRITEBYTECODE=1

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mERROR:\033[0m %s\n' "$*" >&2; exit 1; }

pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  die "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)"
}

setup() {
  local stamp="$VENV/.lock-sha256" want
  want=$(sha256sum requirements.lock | cut -d' ' -f1)
  if [ ! -x "$PY" ]; then
    say "creating virtualenv in .venv"
    "$(pick_python)" -m venv "$VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing pinned dependencies from requirements.lock (first run takes a minute)"
    "$PY" -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
    echo "$want" > "$stamp"
  fi
}

cmd_run() {
  setup
  mkdir -p var
  export KEFU_EMAIL_BACKEND=${KEFU_EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}
  export EMAIL_FILE_PATH=${EMAIL_FILE_PATH:-$ROOT/var/mail}
  say "migrating database (${DATABASE_URL:-SQLite var/kefu.sqlite3})"
  "$PY" manage.py migrate --noinput
  say "loading demo data (first run only)"
  "$PY" manage.py demo_load --if-empty
  "$PY" manage.py collectstatic --noinput -v 0
  local host=${KEFU_HOST:-127.0.0.1} port=${KEFU_PORT:-8000}
  # Links in mail are absolute (kefu.core.links): the address people open, here the local server.
  export KEFU_PUBLIC_URL=${KEFU_PUBLIC_URL:-http://$host:$port}
  say "links in mail point to $KEFU_PUBLIC_URL (KEFU_PUBLIC_URL)"
  say "starting background worker (Huey, also the scheduler of the periodic jobs)"
  "$PY" manage.py kefu_worker --scheduler --workers "${HUEY_WORKERS:-2}" &
  WORKER_PID=$!
  # Request metrics of all gunicorn workers add up in one folder (docs/operations.md).
  export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$ROOT/var/prometheus}
  rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  # WebSockets (chat, screen pops, banners): daphne serves config.asgi on the next port;
  # pages point the client there (KEFU_WS_PORT). Behind a reverse proxy, send /ws/ to
  # daphne on the page's origin and set KEFU_WS_URL=/ws/rt/ instead (docs/realtime.md).
  export KEFU_WS_PORT=${KEFU_WS_PORT:-$((port + 1))}
  say "starting socket server (daphne) on ws://$host:$KEFU_WS_PORT/ws/rt/"
  "$PY" -m daphne -b "$host" -p "$KEFU_WS_PORT" --proxy-headers config.asgi:application 2>>var/daphne.log &
  SOCKET_PID=$!
  trap 'kill "$WORKER_PID" "$SOCKET_PID" 2>/dev/null || true' EXIT INT TERM
  "$PY" manage.py demo_logins --url "http://$host:$port/"
  say "starting web server on http://$host:$port/  (Ctrl-C stops all three)"
  # HTTP is served by gunicorn (WSGI, threads): Django keeps its database connections
  # across requests there, which it cannot do under an ASGI server (one new
  # connection per request). config.asgi stays for WebSockets (Channels).
  "$PY" -m gunicorn config.wsgi:application --bind "$host:$port" --workers "${KEFU_WEB_WORKERS:-2}" \
    --worker-class gthread --threads "${KEFU_WEB_THREADS:-4}" --log-level warning
}

pg_url() { echo "${KEFU_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/kefu}"; }

pg_reachable() {
  "$PY" - "$(pg_url)" <<'PYCODE' 2>/dev/null
import sys, psycopg, dj_database_url
cfg = dj_database_url.parse(sys.argv[1])
psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], password=cfg["PASSWORD"] or None,
                dbname="postgres", connect_timeout=3).close()
PYCODE
}

# Phases of `./kefu.sh test`: each one's result, wall seconds and CPU seconds (its processes'
# user + system time, read from /proc) end up in the summary printed last.
PHASE_DIR="" CLUSTER_PID=""
stop_cluster() {  # SIGTERM makes the cluster test stop its processes and drop its database
  if [ -n "$CLUSTER_PID" ] && [ -s "$PHASE_DIR/cluster.pid" ]; then
    kill -TERM "$(cat "$PHASE_DIR/cluster.pid")" 2>/dev/null || true
    wait "$CLUSTER_PID" 2>/dev/null || true
  fi
}
now() { echo "${EPOCHREALTIME:-$(date +%s)}"; }
phase() {  # phase NAME COMMAND...: run it, record "NAME|rc|wall|cpu" (never stops the script)
  local name=$1
  shift
  # A subshell of its own: its children's CPU time is this phase's alone (a background phase
  # reaped meanwhile counts in the parent shell, not here).
  (
    rc=0 me=$BASHPID t0=$(now)
    c0=$(children_cpu "$me")
    "$@" || rc=$?
    c1=$(children_cpu "$me")
    printf '%s|%s|%s|%s\n' "$name" "$rc" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.0f", b-a}')" \
      "$(awk -v a="$c0" -v b="$c1" 'BEGIN{if (a=="" || b=="") print "-"; else printf "%.1f", b-a}')" >>"$PHASE_DIR/phases"
    exit $rc
  )
}
children_cpu() {  # user + system seconds of process $1's finished children
  [ -r "/proc/$1/stat" ] || return 0
  awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print ($14 + $15) / hz}' "/proc/$1/stat"
}
checks() {
  local rc=0
  say "ruff"
  "$PY" -m ruff check . || rc=1
  "$PY" -m ruff format --check --quiet . || { echo "run: .venv/bin/python -m ruff format ."; rc=1; }
  say "mypy"
  "$PY" -m mypy kefu config || rc=1
  say "import contract (lint-imports)"
  "$VENV/bin/lint-imports" || rc=1
  say "system checks, migrations check"
  "$PY" manage.py check --fail-level WARNING || rc=1
  "$PY" manage.py makemigrations --check --dry-run >/dev/null || { echo "missing migrations"; rc=1; }
  return $rc
}
cluster() {  # its pid is noted so that an interrupted ./kefu.sh test can stop it (trap below)
  KEFU_TEST_PG_URL="$(pg_url)" "$PY" scripts/cluster_test.py --seconds "${KEFU_CLUSTER_SECONDS:-60}" --rate 3 &
  echo $! >"$PHASE_DIR/cluster.pid"
  wait $!
}
summary() {
  local status=$1
  say "summary"
  printf '  %-34s %-7s %8s %8s\n' phase result "wall s" "CPU s"
  while IFS='|' read -r name rc wall cpu; do
    case $rc in 0) res=ok ;; skip) res=skipped ;; *) res=FAILED ;; esac
    printf '  %-34s %-7s %8s %8s\n' "$name" "$res" "$wall" "$cpu"
  done <"$PHASE_DIR/phases"
  printf '  %-34s %-7s %8s\n' "whole command" "$([ "$status" -eq 0 ] && echo ok || echo FAILED)" \
    "$(awk -v a="$TEST_T0" -v b="$(now)" 'BEGIN{printf "%.0f", b-a}')"
}

cmd_test() {
  TEST_T0=$(now)
  setup
  export KEFU_TESTING=1
  local status=0 pytest_args=("$@") xdist=() have_pg=0
  # Two pytest-xdist workers by default (KEFU_TEST_WORKERS=0 runs in one process);
  # pytest-django gives each worker its own test database (test_<name>_gw0, _gw1), cloned
  # from a template migrated once per migrations hash (scripts/testdb.py; KEFU_TEST_TEMPLATE=0
  # migrates each from scratch).
  if [ "${KEFU_TEST_WORKERS:-2}" != "0" ]; then xdist=(-n "${KEFU_TEST_WORKERS:-2}"); fi
  PHASE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kefu-test.XXXXXX")
  : >"$PHASE_DIR/phases"
  if pg_reachable; then have_pg=1; fi

  # The cluster test mostly waits (fixed load, sweeps, restarts): it runs beside the checks and
  # the SQLite suite, its output kept in a log that is printed when it is collected.
  if [ $have_pg = 1 ] && command -v nginx >/dev/null && command -v redis-server >/dev/null; then
    say "cluster test, small scale, started in the background (2 app servers, 2 daphne, 2 workers, scheduler, nginx, own Redis; faults injected); log: $PHASE_DIR/cluster.log"
    phase "cluster test" cluster >"$PHASE_DIR/cluster.log" 2>&1 &
    CLUSTER_PID=$!
    trap stop_cluster EXIT  # stopped early (Ctrl-C, an error)
  elif [ "${CI:-}" = "true" ]; then
    echo "cluster test needs PostgreSQL, nginx and redis-server; under CI their absence is a failure." >&2
    echo "cluster test|1|0|-" >>"$PHASE_DIR/phases"
  else
    echo "cluster test SKIPPED (needs PostgreSQL, nginx and redis-server)."
    echo "cluster test|skip|0|-" >>"$PHASE_DIR/phases"
  fi

  phase "ruff, mypy, imports, checks" checks || status=1

  say "test suite on SQLite"
  phase "test suite on SQLite" env -u DATABASE_URL "$PY" -m pytest -q "${xdist[@]}" "${pytest_args[@]}" || status=1

  if [ -n "$CLUSTER_PID" ]; then
    say "cluster test (collecting the background run)"
    wait "$CLUSTER_PID" || status=1
    CLUSTER_PID=""
    cat "$PHASE_DIR/cluster.log"
  fi

  if [ $have_pg = 1 ]; then
    say "test suite on PostgreSQL ($(pg_url))"
    DATABASE_URL="$(pg_url)" phase "test suite on PostgreSQL" \
      "$PY" -m pytest -q "${xdist[@]}" -m "not browser" "${pytest_args[@]}" || status=1
  elif [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL at $(pg_url) is NOT reachable; under CI this is a failure." >&2
    echo "test suite on PostgreSQL|1|0|-" >>"$PHASE_DIR/phases"
    status=1
  else
    echo "PostgreSQL at $(pg_url) is NOT reachable: the PostgreSQL run was SKIPPED (set KEFU_TEST_PG_URL)."
    echo "test suite on PostgreSQL|skip|0|-" >>"$PHASE_DIR/phases"
  fi
  if grep -q '^[^|]*|[1-9]' "$PHASE_DIR/phases"; then status=1; fi
  summary $status
  rm -rf "$PHASE_DIR"
  if [ $status -ne 0 ]; then say "FAILED"; else say "all checks passed"; fi
  return $status
}

cmd_bench() { setup; exec "$PY" bench/run "$@"; }

# Two app servers, two workers, one scheduler, nginx, its own Redis and PostgreSQL database,
# with processes killed and Redis restarted under load; fails on any loss (scripts/cluster_test.py).
cmd_cluster_test() { setup; exec "$PY" scripts/cluster_test.py "$@"; }

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  setup) setup ;;
  bench) shift; cmd_bench "$@" ;;
  cluster-test) shift; cmd_cluster_test "$@" ;;
  manage) shift; setup; exec "$PY" manage.py "$@" ;;
  *) echo "usage: ./kefu.sh run | test [pytest args] | bench [--list|--quick|NAME...] | cluster-test [--seconds N] | manage ARGS"; exit 2 ;;
esac
