#!/usr/bin/env bash
# Builds the operator image from local files, without a Docker engine: the same layout as the repository's
# Dockerfile (/app/dist/src, /app/node_modules with production dependencies only, /app/package.json, entry
# `node /app/dist/src/cli.js`, user 65532), with this machine's Node.js binary and the shared libraries it links
# instead of the node base image. Packed by test/images/build-image.sh (umoci) into
#   $PODFENCE_CACHE/images/operator.tar   (tag dev; import as localhost/podfence/operator:dev)
# Rebuilt only when its inputs change. Prints "localhost/podfence/operator <archive>".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${PODFENCE_CACHE:-$HOME/.cache/podfence}/images
mkdir -p "$cache"
log() { printf '[images:operator] %s\n' "$*" >&2; }

node_bin=$(readlink -f "$(command -v node)")
tar=$cache/operator.tar stamp=$cache/operator.inputs
sum=$(cd "$repo" && {
  find src -type f -name '*.ts' | LC_ALL=C sort | xargs sha256sum
  find audit-tap/src audit-tap/Makefile -type f | LC_ALL=C sort | xargs sha256sum
  find proto -type f | LC_ALL=C sort | xargs sha256sum
  sha256sum package.json package-lock.json tsconfig.json tsconfig.build.json "$node_bin" \
    "$here/build-operator-image.sh" "$repo/test/images/build-image.sh"
} | sha256sum | cut -c1-64)
if [[ -f $tar && -f $stamp && $(cat "$stamp") == "$sum" ]]; then
  echo "localhost/podfence/operator $tar"
  exit 0
fi

log "building localhost/podfence/operator:dev (node $("$node_bin" --version))"
work=$(mktemp -d "${TMPDIR:-/tmp}/podfence-operator.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/app/node_modules" "$root/usr/local/bin" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"

# 1. TypeScript -> JavaScript, into our own directory (dist/ of the checkout is left alone).
(cd "$repo" && npx tsc -p tsconfig.build.json --outDir "$work/dist") >&2 || { log "ERROR: tsc failed"; exit 1; }
[[ -f $work/dist/src/cli.js ]] || { log "ERROR: tsc produced no src/cli.js"; exit 1; }
mkdir -p "$root/app/dist"
cp -a "$work/dist/src" "$root/app/dist/src"
cp "$repo/package.json" "$root/app/package.json" # "type": "module" makes dist's .js files ES modules

# 2. Production dependencies only (what `npm ci --omit=dev` installs), copied from the checkout's node_modules:
#    each top-level package the production tree needs, with whatever it nests.
deps=$(cd "$repo" && npm ls --omit=dev --all --parseable 2>/dev/null | grep -E '/node_modules/(@[^/]+/)?[^/]+$' | grep -v '/node_modules/.*/node_modules/' || true)
[[ -n $deps ]] || { log "ERROR: npm ls found no production dependencies (run npm ci)"; exit 1; }
while read -r dir; do
  rel=${dir#"$repo"/}
  mkdir -p "$root/app/$(dirname "$rel")"
  cp -a "$dir" "$root/app/$rel"
done <<<"$deps"

# 2a. The CSI plugin's gRPC definitions (loaded at run time) and mount/umount for its bind mounts: the Dockerfile's
#     alpine base has busybox's; here Debian's static busybox (busybox-static) with the two applet links.
cp -a "$repo/proto" "$root/app/proto"
mkdir -p "$root/bin"
install -m 0755 "$(command -v busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/mount"
ln -s busybox "$root/bin/umount"

# 2b. The static audit record reader the node agent runs for denials (the Dockerfile's audit-tap stage).
make -s -C "$repo/audit-tap" >&2 || { log "ERROR: make -C audit-tap failed"; exit 1; }
install -m 0755 "$repo/audit-tap/build/audit-tap" "$root/usr/local/bin/audit-tap"

# 3. Node.js and the shared libraries it links (the Dockerfile gets both from the node base image).
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/:/sbin/nologin\npodfence:x:65532:65532:podfence:/app:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\npodfence:x:65532:\n' >"$root/etc/group"
# Everything root-owned and not writable by the process (the chart also makes the root filesystem read-only).
chown -R 0:0 "$root"
# The entry point resolves inside the rootfs, with the image's own node and libraries.
chroot "$root" /usr/local/bin/node -e 'require("node:fs").accessSync("/app/dist/src/cli.js")' ||
  { log "ERROR: the rootfs's node does not run or /app/dist/src/cli.js is missing"; exit 1; }

"$repo/test/images/build-image.sh" "$tar" "$root" \
  --entrypoint /usr/local/bin/node --entrypoint /app/dist/src/cli.js --cmd --help --user 65532:65532 --workdir /app
echo "$sum" >"$stamp"
log "built $tar ($(du -h "$tar" | cut -f1))"
echo "localhost/podfence/operator $tar"
