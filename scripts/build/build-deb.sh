#!/usr/bin/env bash
# Builds the Debian packages postgresql-15-eventodb and eventodb-gateway
# (debian/) into build/deb/ (or $EVENTODB_DEB_DIR), then checks them with
# lintian: any error or warning fails the build (overrides, each with its
# reason, live in debian/*.lintian-overrides).
#
# The build runs in a copy of the working tree (tracked and new files, as
# they are now, nothing git ignores): debhelper compiles and cleans in its
# source folder, and the tree's own objects stay those of `make install`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${EVENTODB_DEB_DIR:-$ROOT/build/deb}"
cd "$ROOT"
version="$(dpkg-parsechangelog -l debian/changelog -S Version)"
src="$OUT/eventodb-$version"

mkdir -p "$OUT"
# only what an earlier run left: $EVENTODB_DEB_DIR may hold other files
rm -rf "$src" "$OUT"/*_"$version"_*.deb "$OUT"/eventodb_"$version"_*.buildinfo \
  "$OUT"/eventodb_"$version"_*.changes "$OUT/build.log"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$src"

(cd "$src" && dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$OUT/build.log" 2>&1) || {
  tail -n 60 "$OUT/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed, full log in $OUT/build.log" >&2
  exit 1
}
rm -rf "$src"

debs=("$OUT/postgresql-15-eventodb_${version}_"*.deb "$OUT/eventodb-gateway_${version}_"*.deb)
lintian --fail-on error,warning "${debs[@]}"
echo "build-deb: lintian clean"
ls -1 "${debs[@]}"
