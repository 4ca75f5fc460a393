#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are missing.
# Idempotent: a second run installs nothing and does not touch apt's lists.
# `deps.sh --ha` installs only the packages of the HA cluster (scripts/ha.sh).
set -euo pipefail

PACKAGES=(
  postgresql-15 postgresql-client-15 postgresql-contrib postgresql-server-dev-15
  libpq-dev libmicrohttpd-dev libjson-c-dev libssl-dev zlib1g-dev
  build-essential pkg-config
  python3-pytest python3-pytest-timeout python3-psycopg2 python3-requests
  curl
  clang-14 libclang-rt-14-dev   # fuzz/ harnesses and test/test_fuzz_smoke.py (libFuzzer)
  debhelper dpkg-dev devscripts fakeroot lintian llvm-14   # make deb, test/test_packages.py
  prometheus                    # promtool: test/test_metrics.py checks GET /metrics' format
  chromium chromium-driver python3-selenium   # test/test_console_browser.py (the web console)
)
# scripts/ha.sh's local Patroni cluster (and test/test_ha.py); not needed by
# `make run`.
HA_PACKAGES=(patroni etcd-server python3-etcd python3-psycopg2)
if [ "${1:-}" = "--ha" ]; then
  PACKAGES=("${HA_PACKAGES[@]}")
fi
if [ "${EVENTODB_DEPS_EXTRA:-}" != "" ]; then
  # shellcheck disable=SC2206
  PACKAGES+=(${EVENTODB_DEPS_EXTRA})
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
