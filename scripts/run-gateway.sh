#!/usr/bin/env bash
# Serves the gateway against the project-local cluster (used by `make run`).
# The cluster must be running and hold database eventodb (make run does both).
#
# The default namespace's token is kept in <cluster>/default-token (mode 600)
# so that every run prints the same, working token: the gateway stores only
# its hash, and a fresh random token would not match an existing namespace.
# EVENTODB_TOKEN, when set, wins.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
eval "$("$ROOT/scripts/cluster.sh" env)"

urlencode() {
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [a-zA-Z0-9.~_-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}

DB_URL="postgresql:///eventodb?host=$(urlencode "$PGHOST")&port=$PGPORT&user=$(urlencode "$PGUSER")"

BASE="$(dirname "$PGDATA_DIR")"
TOKEN_FILE="$BASE/default-token"
if [ -z "${EVENTODB_TOKEN:-}" ]; then
  if [ ! -s "$TOKEN_FILE" ]; then
    (umask 077; printf 'ns_ZGVmYXVsdA_%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$TOKEN_FILE")
  fi
  EVENTODB_TOKEN="$(cat "$TOKEN_FILE")"
  export EVENTODB_TOKEN
fi

# The gateway never logs a supplied token; show it to the person at the
# terminal who ran `make run`, and only the file's path otherwise.
if [ -t 1 ]; then
  echo "default namespace token: $EVENTODB_TOKEN"
else
  echo "default namespace token: in $TOKEN_FILE"
fi
echo "serving on http://localhost:${EVENTODB_PORT:-8080}"
exec "$ROOT/gateway/eventodb" serve --port="${EVENTODB_PORT:-8080}" --db-url="$DB_URL"
