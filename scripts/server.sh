#!/usr/bin/env bash
# A shared MLflow tracking server: PostgreSQL backend store, proxied artifact store, both kept
# under one folder. For a team (run it on a machine everyone reaches) and for the tests.
#
#   scripts/server.sh start DIR [PORT]   start (creating on first use); prints the tracking URI
#   scripts/server.sh stop DIR           stop the MLflow server and the database
#   scripts/server.sh drop DIR           stop, then delete the database cluster (DIR/postgres)
#
# PostgreSQL comes from Debian's packages (installed when missing, with sudo unless root). It
# refuses to run as root, so the cluster is created and started the way Debian does it
# (pg_createcluster / pg_ctlcluster run it as the postgres user); DIR must be reachable by that
# user (e.g. under /srv or /tmp, not under a 0700 home). The database listens on 127.0.0.1 only
# and trusts local connections: put a password and a TLS proxy in front before sharing it
# beyond this machine (see docs/SCALING.md).
set -euo pipefail

usage() { echo "usage: $0 start|stop|drop DIR [PORT]" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1
dir=$(realpath -m "$2")
port=${3:-5001}
here=$(cd "$(dirname "$0")/.." && pwd)
mlflow=${MLFLOW:-$here/.venv/bin/mlflow}
python=${PYTHON_BIN:-$here/.venv/bin/python}
name="condgen_$(printf %s "$dir" | md5sum | cut -c1-10)"
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

version() { ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1; }

install_postgres() {
  if ! command -v pg_createcluster >/dev/null || [ -z "$(version)" ]; then
    echo "installing PostgreSQL (Debian's postgresql package)" >&2
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q postgresql >&2
  fi
}

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

stop_mlflow() {
  if [ -f "$dir/mlflow.pid" ]; then
    pid=$(cat "$dir/mlflow.pid")
    # The server runs in its own process group (its workers with it).
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$dir/mlflow.pid"
  fi
}

case "$action" in
start)
  install_postgres
  ver=$(version)
  mkdir -p "$dir/artifacts"
  chmod 755 "$dir"
  if ! $sudo pg_lsclusters -h | awk '{print $1 "/" $2}' | grep -qx "$ver/$name"; then
    pg_port=$(free_port)
    $sudo pg_createcluster --datadir "$dir/postgres" --port "$pg_port" "$ver" "$name" \
      -- --auth-local=trust --auth-host=trust >&2
  fi
  pg_port=$($sudo pg_lsclusters -h | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n {print $3}')
  if ! $sudo pg_lsclusters -h | awk -v n="$name" '$2 == n {print $4}' | grep -q online; then
    $sudo pg_ctlcluster "$ver" "$name" start >&2
  fi
  psql=(psql -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qAt)
  for _ in $(seq 50); do "${psql[@]}" -c "select 1" >/dev/null 2>&1 && break; sleep 0.2; done
  if [ "$("${psql[@]}" -c "select 1 from pg_database where datname = 'mlflow'")" != 1 ]; then
    "${psql[@]}" -c "create database mlflow" >&2
  fi
  stop_mlflow
  store="postgresql+psycopg2://postgres@127.0.0.1:$pg_port/mlflow"
  MLFLOW_DISABLE_TELEMETRY=true setsid "$mlflow" server --backend-store-uri "$store" \
    --artifacts-destination "$dir/artifacts" --host 127.0.0.1 --port "$port" \
    --workers "${MLFLOW_WORKERS:-1}" \
    >"$dir/mlflow.log" 2>&1 < /dev/null &
  echo $! >"$dir/mlflow.pid"
  for _ in $(seq 300); do
    if "$python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/health', timeout=2)" 2>/dev/null; then
      echo "MLFLOW_TRACKING_URI=http://127.0.0.1:$port"
      exit 0
    fi
    if ! kill -0 "$(cat "$dir/mlflow.pid")" 2>/dev/null; then
      echo "the MLflow server stopped; its log ($dir/mlflow.log):" >&2
      tail -20 "$dir/mlflow.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "the MLflow server did not answer on port $port within 60 s; see $dir/mlflow.log" >&2
  exit 1
  ;;
stop | drop)
  stop_mlflow
  ver=$(version)
  if [ -n "$ver" ] && $sudo pg_lsclusters -h 2>/dev/null | awk '{print $2}' | grep -qx "$name"; then
    $sudo pg_ctlcluster "$ver" "$name" stop >&2 || true
    [ "$action" = drop ] && $sudo pg_dropcluster "$ver" "$name" >&2
  fi
  ;;
*) usage ;;
esac
