#!/usr/bin/env bash
# `npm run images`: builds podfence's two images from their Dockerfiles with buildah (daemonless, as root), for
# linux/amd64 and linux/arm64, into OCI archives that each hold a multi-architecture index:
#   OUT/operator.tar   from Dockerfile               (tag VERSION inside; VERSION = package.json's version)
#   OUT/init.tar       from images/init/Dockerfile
#   OUT/<image>.packages.txt   what went into the image: base packages, Node.js, npm packages, C programs
# OUT is dist/images unless --out DIR is given. No base image can be pulled here, so the bases are assembled
# locally (scripts/images/bases.sh) and passed as build arguments; the Dockerfiles keep their public defaults.
# An image is rebuilt only when a hash of its inputs changes (OUT/<image>.inputs); buildah keeps its layers and the
# bases in $PODFENCE_CACHE/buildah (default ~/.cache/podfence/buildah), so a changed source rebuilds only the
# stages that read it.
#   scripts/build-images.sh [--out DIR] [--arch amd64,arm64] [--image operator|init]...
# Prints "<image> <archive>" per image on stdout; progress goes to stderr.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${PODFENCE_CACHE:-$HOME/.cache/podfence}
out=$repo/dist/images
archs=amd64,arm64
images=()
log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --arch) archs=$2; shift 2 ;;
    --image) images+=("$2"); shift 2 ;;
    *) die "usage: $0 [--out DIR] [--arch amd64,arm64] [--image operator|init]..." ;;
  esac
done
[[ ${#images[@]} -gt 0 ]] || images=(operator init)
[[ $(id -u) -eq 0 ]] || die "run as root (buildah builds rootful here: chroot isolation, overlay storage)"
for tool in buildah mmdebstrap npm openssl dpkg-deb jq; do
  command -v "$tool" >/dev/null || die "$tool is missing (bash scripts/setup.sh installs it)"
done
mkdir -p "$out" "$cache/buildah"
out=$(cd "$out" && pwd)
# One build per output directory at a time (the chart test, the demo and a user's run may share the cache).
exec 9>"$out/.lock"
flock 9

# buildah with this build's own storage (outside the repository; layers survive between runs) and a run root of its
# own (a run root belongs to one storage: another PODFENCE_CACHE gets another).
runroot=/run/podfence-buildah/$(printf '%s' "$cache" | sha256sum | cut -c1-12)
bah() {
  buildah --root "$cache/buildah/storage" --runroot "$runroot" --storage-driver overlay "$@"
}

# shellcheck source=scripts/images/bases.sh
source "$repo/scripts/images/bases.sh"

version=$(jq -r .version "$repo/package.json")
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
source_url=$(git -C "$repo" remote get-url origin 2>/dev/null || echo "podfence $version (local checkout)")
build_platform=linux/$host_arch
IFS=, read -r -a arch_list <<<"$archs"

# inputs IMAGE: the files its Dockerfile reads, and how it is built.
inputs() {
  local files
  case $1 in
    operator) files=$(cd "$repo" && { ls Dockerfile package.json package-lock.json tsconfig.json tsconfig.build.json \
      images/cross-build.sh; find src proto audit-tap -type f -not -path 'audit-tap/build/*'; } | LC_ALL=C sort) ;;
    init) files=$(cd "$repo" && { ls images/init/Dockerfile images/cross-build.sh; find init-helper -type f \
      -not -path 'init-helper/build/*'; } | LC_ALL=C sort) ;;
  esac
  (cd "$repo" && sha256sum $files .dockerignore scripts/build-images.sh scripts/images/bases.sh scripts/images/pins.sh)
}

# package_list IMAGE ARCHIVE: what went into the image (an SBOM-like list, kept next to the archive).
package_list() {
  local image=$1 archive=$2 c m arch
  echo "# podfence $image $version (revision $revision), $(basename "$archive"): what the image contains"
  echo "# manifests (OCI index):"
  tar -xOf "$archive" index.json | jq -r '.manifests[0].digest' | while read -r idx; do
    tar -xOf "$archive" "blobs/${idx/://}" | jq -r '.manifests[] | "#   \(.platform.os)/\(.platform.architecture) \(.digest)"'
  done
  c=$(bah from --pull=never "$BUILD_IMAGE")
  m=$(bah mount "$c")
  if [[ $image == operator ]]; then
    for arch in "${arch_list[@]}"; do
      echo "[base linux/$arch] (Debian packages, unpacked: scripts/images/bases.sh)"
      local rc rm
      rc=$(bah from --pull=never "localhost/podfence/$image:$version-$arch" 2>/dev/null)
      rm=$(bah mount "$rc")
      sed 's/^/deb /' "$rm/usr/share/podfence/base-packages.txt" 2>/dev/null || echo "(base from RUNTIME_IMAGE: see its own SBOM)"
      echo "node v$NODE_VERSION /usr/local/bin/node npm:$(node_pkg "$arch")@$NODE_VERSION $(node_integrity "$arch") MIT"
      bah umount "$rc" >/dev/null; bah rm "$rc" >/dev/null
      echo "deb $(dpkg-deb --showformat='${Package}:${Architecture} ${Version}' -W "$m"/opt/podfence-debs/busybox-static_*_"$arch".deb) GPL-2 (/usr/local/bin/busybox)"
    done
    echo "[npm packages] (package-lock.json, production only: /app/node_modules)"
    jq -r '.packages | to_entries[] | select(.key != "" and (.value.dev | not))
      | "npm \(.key | sub(".*node_modules/"; ""))@\(.value.version) \(.value.license // "?") \(.value.integrity // "")"' \
      "$repo/package-lock.json" | LC_ALL=C sort -u
    echo "[built from this repository] Apache-2.0"
    echo "src podfence@$version /app/dist/src (TypeScript, tsc)"
    echo "src audit-tap /usr/local/bin/audit-tap (C, static musl)"
  else
    echo "[built from this repository] Apache-2.0"
    echo "src podfence-init /podfence-init (C, static musl, no other file in the image)"
  fi
  echo "[build tools] (build platform $build_platform; not in the image)"
  grep -E '^(gcc|gcc-12|musl|musl-dev|musl-tools|gcc-aarch64-linux-gnu|gcc-x86-64-linux-gnu|binutils|make):' \
    "$m/opt/podfence-debs/packages.txt" | sed 's/^/deb /'
  bah umount "$c" >/dev/null; bah rm "$c" >/dev/null
}

dockerfile() { case $1 in operator) echo Dockerfile ;; init) echo images/init/Dockerfile ;; esac; }

for image in "${images[@]}"; do
  case $image in operator | init) ;; *) die "unknown image '$image' (operator, init)" ;; esac
  archive=$out/$image.tar stamp=$out/$image.inputs
  sum=$({ inputs "$image"; echo "$archs $version $revision $source_url"; } | sha256sum | cut -c1-64)
  if [[ -f $archive && -f $stamp && $(cat "$stamp") == "$sum" ]]; then
    log "$image: up to date ($archive)"
    echo "$image $archive"
    continue
  fi
  t0=$SECONDS
  ensure_build_base
  list=localhost/podfence/$image:$version
  refs=()
  for arch in "${arch_list[@]}"; do
    args=(--build-arg "BUILD_IMAGE=$BUILD_IMAGE")
    if [[ $image == operator ]]; then
      ensure_node_base "$arch"
      ensure_runtime_base "$arch"
      args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
    fi
    ref=localhost/podfence/$image:$version-$arch
    log "$image: building $ref (linux/$arch) from $(dockerfile "$image")"
    # BUILDPLATFORM: buildah 1.28 does not set it by itself (Docker does).
    bah bud --quiet --layers --pull=never --isolation chroot --platform "linux/$arch" \
      --build-arg "BUILDPLATFORM=$build_platform" --build-arg "VERSION=$version" \
      --build-arg "REVISION=$revision" --build-arg "SOURCE=$source_url" "${args[@]}" \
      -f "$repo/$(dockerfile "$image")" -t "$ref" "$repo" >/dev/null || die "$image ($arch): buildah bud failed"
    got=$(bah inspect --type image --format '{{.OCIv1.Architecture}} {{.OCIv1.Config.User}}' "$ref")
    [[ ${got%% *} == "$arch" ]] || die "$ref: architecture ${got%% *}, expected $arch"
    user=${got#* }
    [[ -n $user && ${user%%:*} != 0 && ${user%%:*} != root ]] || die "$ref: runs as '$user' (must be non-root)"
    refs+=("$ref")
  done
  bah manifest rm "$list" >/dev/null 2>&1 || true
  bah rmi "$list" >/dev/null 2>&1 || true
  bah manifest create "$list" >/dev/null
  for ref in "${refs[@]}"; do bah manifest add "$list" "containers-storage:$ref" >/dev/null; done
  rm -f "$archive.part"
  bah manifest push --quiet --all --format oci "$list" "oci-archive:$archive.part:$version" >/dev/null ||
    die "$image: writing $archive failed"
  mv -f "$archive.part" "$archive"
  # The list has done its job; left in storage it would go stale when its instances are rebuilt.
  bah manifest rm "$list" >/dev/null 2>&1 || true
  package_list "$image" "$archive" >"$out/$image.packages.txt.part"
  mv -f "$out/$image.packages.txt.part" "$out/$image.packages.txt"
  echo "$sum" >"$stamp"
  log "$image: $archive ($(du -h "$archive" | cut -f1), ${arch_list[*]}) in $((SECONDS - t0)) s"
  echo "$image $archive"
done
