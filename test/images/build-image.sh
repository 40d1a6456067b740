#!/usr/bin/env bash
# Packs a directory into an OCI image archive, with no registry and no daemon (umoci):
#   build-image.sh OUT.tar ROOTFS_DIR [--entrypoint ARG]... [--cmd ARG]... [--user U] [--workdir D]
# The archive is an OCI layout (tag "dev") that `ctr images import --base-name localhost/NAME` turns into
# localhost/NAME:dev, and `skopeo copy oci-archive:OUT.tar docker://...` can push to a registry.
set -euo pipefail

usage() { echo "usage: $0 OUT.tar ROOTFS_DIR [--entrypoint ARG]... [--cmd ARG]... [--user U] [--workdir D]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
out=$1 rootfs=$2
shift 2
[[ -d $rootfs ]] || { echo "build-image: $rootfs is not a directory" >&2; exit 1; }

config=(--config.workingdir /)
clear_ep=0 clear_cmd=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --entrypoint) [[ $clear_ep -eq 1 ]] || config+=(--clear=config.entrypoint); clear_ep=1; config+=(--config.entrypoint "$2"); shift 2 ;;
    --cmd) [[ $clear_cmd -eq 1 ]] || config+=(--clear=config.cmd); clear_cmd=1; config+=(--config.cmd "$2"); shift 2 ;;
    --user) config+=(--config.user "$2"); shift 2 ;;
    --workdir) config+=(--config.workingdir "$2"); shift 2 ;;
    *) usage ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/podfence-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
layout=$work/oci
umoci init --layout "$layout"
umoci new --image "$layout:dev"
umoci unpack --image "$layout:dev" "$work/bundle" >/dev/null
cp -a "$rootfs/." "$work/bundle/rootfs/"
umoci repack --image "$layout:dev" "$work/bundle"
umoci config --image "$layout:dev" --os linux --architecture amd64 "${config[@]}"
umoci gc --layout "$layout"
mkdir -p "$(dirname "$out")"
tar -C "$layout" -cf "$out.tmp" .
mv -f "$out.tmp" "$out"
