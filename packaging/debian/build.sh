#!/usr/bin/env bash
# Builds the Debian package of p2shim with dpkg-deb (no debhelper needed):
#
#   packaging/debian/build.sh OUT.deb     (after `make shim`; make deb calls it)
#
# Contents (Architecture: all, the shim is WebAssembly):
#   /usr/bin/wasip2-run, /usr/share/p2shim/{p2shim.wasm,node-wasi.mjs},
#   /usr/share/man/man1/wasip2-run.1.gz, /usr/share/p2shim/binfmt/wasip2-run.conf,
#   /usr/share/doc/p2shim/copyright.
# The files come from `make install DESTDIR=... PREFIX=/usr`, so the package
# and `make install` cannot drift apart.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$(realpath -m "${1:?usage: build.sh OUT.deb}")"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

make -C "$root" --no-print-directory install-files DESTDIR="$stage" PREFIX=/usr >/dev/null
gzip -9n "$stage/usr/share/man/man1/wasip2-run.1"
install -d "$stage/usr/share/p2shim/binfmt" "$stage/usr/share/doc/p2shim" "$stage/DEBIAN"
install -m 644 "$root/packaging/binfmt/wasip2-run.conf" "$stage/usr/share/p2shim/binfmt/"
cat >"$stage/usr/share/doc/p2shim/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: p2shim
Files: *
License: Apache-2.0 WITH LLVM-exception
COPY
installed_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$installed_kb/" "$here/control.in" >"$stage/DEBIAN/control"
# Reproducible: fixed mtimes, root ownership.
find "$stage" -exec touch -h -d @0 {} +
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "built $out ($(wc -c <"$out") bytes)"
