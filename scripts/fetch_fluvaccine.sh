#!/usr/bin/env bash
# Fetch fluVaccine.RData (Debian package r-bioc-qusage, ~10 MB .deb) into $1 (default
# data/external) and check its sha256.
#
# * A file already there that passes the check is kept (nothing fetched).
# * A file that fails it (truncated download, other version) is moved aside to
#   fluVaccine.RData.bad and fetched again.
# * A fetched file is installed only if it passes the check.
# Never fails the build: where apt is unavailable, or the fetched file does not match,
# it says how to get the file, and the CMap chapter's real-data section is skipped with
# that message.
set -u
# fluVaccine.RData of r-bioc-qusage 2.32.0-1 (Debian bookworm); the same value is
# aligned_latents.applications.fluvaccine.SHA256.
SHA256=fdd80451d2c84c10701331fa0b78f9c2ae0e36399a38999f7988ea8f80440327
dest=${1:-data/external}
file="$dest/fluVaccine.RData"
mkdir -p "$dest"

verify() {  # verify FILE: true when FILE has the expected sha256
  [ -s "$1" ] && echo "$SHA256  $1" | sha256sum --check --status -
}

if [ -e "$file" ]; then
  if verify "$file"; then
    exit 0
  fi
  mv -f "$file" "$file.bad"
  echo "note: $file failed its sha256 check (truncated or another version): moved to" \
       "$file.bad, fetching it again"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if command -v apt-get >/dev/null &&
   (cd "$tmp" && apt-get download r-bioc-qusage >/dev/null 2>&1); then
  f=""
  dpkg-deb -x "$tmp"/r-bioc-qusage_*.deb "$tmp/x" &&
    f=$(find "$tmp/x" -name fluVaccine.RData | head -n 1)
  if [ -n "$f" ] && verify "$f"; then
    cp "$f" "$file.part" && mv -f "$file.part" "$file" &&
      echo "fetched $file (Debian r-bioc-qusage, sha256 checked)" && exit 0
  elif [ -n "$f" ]; then
    echo "note: the fluVaccine.RData of the r-bioc-qusage package apt offers has" \
         "sha256 $(sha256sum "$f" | cut -d' ' -f1), not $SHA256; not installed."
  fi
fi
echo "note: could not fetch fluVaccine.RData with apt; download the Debian package" \
     "r-bioc-qusage 2.32.0-1 (or Bioconductor qusage) and copy data/fluVaccine.RData" \
     "to $dest/ (sha256 $SHA256). The CMap chapter skips its real-data section" \
     "without it."
exit 0
