#!/usr/bin/env bash
# Fetch fluVaccine.RData (Debian package r-bioc-qusage, ~10 MB) into $1 (default data/external).
# Never fails the build: where apt is unavailable it says how to get the file, and the CMap
# chapter's real-data section is skipped with that message.
set -u
dest=${1:-data/external}
mkdir -p "$dest"
[ -s "$dest/fluVaccine.RData" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if command -v apt-get >/dev/null && (cd "$tmp" && apt-get download r-bioc-qusage >/dev/null 2>&1); then
  dpkg-deb -x "$tmp"/r-bioc-qusage_*.deb "$tmp/x" &&
  f=$(find "$tmp/x" -name fluVaccine.RData | head -n 1) && [ -n "$f" ] && cp "$f" "$dest/fluVaccine.RData" &&
  echo "fetched $dest/fluVaccine.RData (Debian r-bioc-qusage)" && exit 0
fi
echo "note: could not fetch fluVaccine.RData with apt; download the Debian package r-bioc-qusage" \
     "(or Bioconductor qusage) and copy data/fluVaccine.RData to $dest/. The CMap chapter skips" \
     "its real-data section without it."
exit 0
