#!/usr/bin/env bash
# make profile-compare BASELINE=profiles/A OPTIMIZED=profiles/B: throughput, latency
# percentiles, CPU per operation per process, gateway memory and the functions that
# gained or lost CPU share, side by side with % changes (markdown on stdout).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ $# -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
  echo "usage: make profile-compare BASELINE=profiles/<stamp> OPTIMIZED=profiles/<stamp>" >&2
  ls -1d "$ROOT"/profiles/*/ 2>/dev/null | tail -5 | sed 's|^|  available: |' >&2 || true
  exit 2
fi
exec /usr/bin/python3 "$ROOT/scripts/profile/profile_compare.py" "$1" "$2"
