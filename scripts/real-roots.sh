#!/bin/bash
# Builds real installed roots for end-to-end tests: Debian bookworm made by debootstrap and apt,
# so they hold what real roots hold (device nodes, setuid files, hardlinks, symlinks, a dpkg
# database, files changed by maintainer scripts).
#   minimal   debootstrap --variant=minbase
#   standard  minimal + less, file, procps, bzip2, xz-utils
#   python    minimal + python3-minimal         (a sibling of standard, not a child)
# Usage: real-roots.sh [DIR]   (default: $MC_ROOTS or /var/tmp/mediacompose-roots)
# Needs root and the Debian package mirror this machine is set up with. Idempotent: roots already
# made (marked by DIR/.NAME.done) are kept. Exits 75 when the mirror cannot be reached.
set -euo pipefail
DIR=${1:-${MC_ROOTS:-/var/tmp/mediacompose-roots}}
mkdir -p "$DIR"
mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
if [ ! -e "$DIR/.minimal.done" ] || [ ! -e "$DIR/.standard.done" ] || [ ! -e "$DIR/.python.done" ]; then
  # debootstrap needs wget; the tests skip (rather than fail) when this says the mirror is out of reach.
  wget -q -T 20 -t 2 -O /dev/null "${mirror%/}/dists/bookworm/Release" || { echo "real-roots.sh: cannot reach the Debian mirror ${mirror}" >&2; exit 75; }
fi
build() {  # name parent packages...
  local name=$1 parent=$2; shift 2
  [ -e "$DIR/.$name.done" ] && return
  rm -rf "${DIR:?}/$name"
  cp -a "$DIR/$parent" "$DIR/$name"
  chroot "$DIR/$name" apt-get install -y -q --no-install-recommends "$@" >"$DIR/$name.log" 2>&1
  touch "$DIR/.$name.done"
}
if [ ! -e "$DIR/.minimal.done" ]; then
  rm -rf "${DIR:?}/minimal"
  debootstrap --variant=minbase bookworm "$DIR/minimal" "$mirror" >"$DIR/minimal.log" 2>&1
  touch "$DIR/.minimal.done"
fi
build standard minimal less file procps bzip2 xz-utils
build python minimal python3-minimal
for r in minimal standard python; do
  echo "$DIR/$r: $(du -sm "$DIR/$r" | cut -f1) MiB, $(find "$DIR/$r" | wc -l) entries"
done
