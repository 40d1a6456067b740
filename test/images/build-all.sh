#!/usr/bin/env bash
# Builds the images the e2e node runs, from local files only, into OCI archives under
#   $PODFENCE_CACHE/images/<name>.tar        (PODFENCE_CACHE defaults to ~/.cache/podfence)
# Each archive is rebuilt only when its inputs change (a hash of them is kept next to it). Prints one line per
# image: "<image name> <archive path>"; import them with `ctr -n k8s.io images import --base-name <name>`.
#   localhost/podfence/pause    the pod sandbox's pause process (pause.c, static musl)
#   localhost/podfence/init     only the static /podfence-init (init-helper/build/podfence-init)
#   localhost/podfence/busybox  a static busybox
#   localhost/podfence/probe    the e2e probe (test/e2e/probe.c) and a few files the Landlock checks read
# All are tagged :dev.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${PODFENCE_CACHE:-$HOME/.cache/podfence}/images
mkdir -p "$cache"

log() { printf '[images] %s\n' "$*" >&2; }
CC="musl-gcc -static -Os -s -Wall -Wextra -Werror"

# build_image NAME STAGE_FN INPUT_FILES... -- BUILD-IMAGE-ARGS...
# STAGE_FN fills the rootfs directory given as $1.
build_image() {
  local name=$1 stage=$2 inputs=() args=()
  shift 2
  while [[ $# -gt 0 && $1 != -- ]]; do inputs+=("$1"); shift; done
  shift
  args=("$@")
  local tar="$cache/$name.tar" stamp="$cache/$name.inputs"
  local sum
  sum=$({ sha256sum "${inputs[@]}" "$here/build-image.sh" "$here/build-all.sh"; printf '%s\n' "${args[@]}"; } | sha256sum | cut -c1-64)
  if [[ -f $tar && -f $stamp && $(cat "$stamp") == "$sum" ]]; then
    echo "localhost/podfence/$name $tar"
    return
  fi
  log "building localhost/podfence/$name:dev"
  local root
  root=$(mktemp -d "${TMPDIR:-/tmp}/podfence-rootfs.XXXXXX")
  "$stage" "$root"
  "$here/build-image.sh" "$tar" "$root" "${args[@]}"
  rm -rf "$root"
  echo "$sum" >"$stamp"
  echo "localhost/podfence/$name $tar"
}

stage_pause() { $CC -o "$1/pause" "$here/pause.c"; }

init_bin=$repo/init-helper/build/podfence-init
stage_init() { install -m 0755 "$init_bin" "$1/podfence-init"; }

busybox=/bin/busybox
stage_busybox() {
  mkdir -p "$1/bin" "$1/tmp" "$1/etc"
  install -m 0755 "$busybox" "$1/bin/busybox"
  ln -s busybox "$1/bin/sh"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
}

# The probe image's layout is what the e2e profile (test/e2e/profile-*.yaml) is written against:
#   /bin/probe, /bin/busybox    executable (the profile's execute path is /bin)
#   /opt/tool/busybox           outside every execute path
#   /data/secret.txt            outside every path (mode 0644: only Landlock can refuse the read)
#   /etc/motd                   under a read-only path
#   /srv/ro                     read-only in the profile but mode 0777 (only Landlock can refuse the write)
#   /tmp                        read-write
#   /srv/root -> /              a symlink the image ships (test/e2e/escapes: a granted path that leads to /)
stage_probe() {
  local r=$1
  stage_busybox "$r"
  $CC -o "$r/bin/probe" "$repo/test/e2e/probe.c"
  mkdir -p "$r/opt/tool" "$r/data" "$r/srv/ro"
  install -m 0755 "$busybox" "$r/opt/tool/busybox"
  echo "a file podfence must keep the workload from reading" >"$r/data/secret.txt"
  chmod 0644 "$r/data/secret.txt"
  echo "readable under a read-only path" >"$r/etc/motd"
  chmod 0777 "$r/srv/ro"
  ln -s / "$r/srv/root"
}

command -v musl-gcc >/dev/null || { echo "build-all: musl-gcc is missing (apt-get install musl-tools)" >&2; exit 1; }
command -v umoci >/dev/null || { echo "build-all: umoci is missing (apt-get install umoci)" >&2; exit 1; }
[[ -x $busybox ]] || { echo "build-all: $busybox is missing (apt-get install busybox-static)" >&2; exit 1; }
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || [[ ! -x /usr/bin/file ]] || {
  echo "build-all: $busybox is not static (busybox-static provides a static one)" >&2
  exit 1
}

build_image pause stage_pause "$here/pause.c" -- --entrypoint /pause
build_image busybox stage_busybox "$busybox" -- --entrypoint /bin/sh
build_image probe stage_probe "$repo/test/e2e/probe.c" "$busybox" -- \
  --entrypoint /bin/probe --cmd id --cmd status --cmd read:/data/secret.txt --cmd read:/etc/motd
if [[ ! -x $init_bin && -f $repo/init-helper/Makefile ]]; then
  log "building init-helper (make -C init-helper)"
  make -s -C "$repo/init-helper" >&2
fi
if [[ -x $init_bin ]]; then
  build_image init stage_init "$init_bin" -- --entrypoint /podfence-init
else
  log "skipping localhost/podfence/init: $init_bin is missing (make -C init-helper)"
fi
