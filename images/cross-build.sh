#!/bin/sh
# Builds podfence's static C programs for a target architecture on the build platform (a Debian 12 root, the
# Dockerfiles' build stages): no emulated RUN for the target, so an arm64 image builds on an amd64 machine and back.
#   cross-build.sh toolchain ARCH            install what ARCH needs, only what is missing (gcc, make, musl)
#   cross-build.sh init-helper ARCH OUT      init-helper/ (cwd /src) -> OUT/podfence-init
#   cross-build.sh audit-tap ARCH OUT        audit-tap/ (cwd /src)   -> OUT/audit-tap
#   cross-build.sh busybox ARCH OUT          Debian's busybox-static for ARCH -> OUT/busybox (+ mount, umount)
# ARCH is Docker's TARGETARCH: amd64 or arm64. Same arch as the build platform: musl-gcc; other arch: Debian's
# cross gcc with the target's musl (Debian multiarch: musl-dev:ARCH) through musl's gcc specs file.
set -eu

die() { echo "cross-build: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: cross-build.sh toolchain|init-helper|audit-tap|busybox ARCH [OUT]"
what=$1 arch=$2 out=${3:-}
build_arch=$(dpkg --print-architecture)
case $arch in
  amd64) triple=x86_64-linux-gnu muslt=x86_64-linux-musl gccpkg=gcc-x86-64-linux-gnu ;;
  arm64) triple=aarch64-linux-gnu muslt=aarch64-linux-musl gccpkg=gcc-aarch64-linux-gnu ;;
  *) die "unsupported architecture '$arch' (amd64, arm64)" ;;
esac

# Packages this target needs on this build platform.
if [ "$arch" = "$build_arch" ]; then
  pkgs="gcc libc6-dev make binutils musl-tools musl-dev linux-libc-dev"
  cc="musl-gcc"
  # Debian's musl-gcc does not look in the kernel headers (linux/audit.h, linux/netlink.h).
  khdrs="-idirafter /usr/include -idirafter /usr/include/$triple"
else
  pkgs="make binutils $gccpkg linux-libc-dev-$arch-cross musl-dev:$arch"
  cc="$triple-gcc -specs /usr/lib/$muslt/musl-gcc.specs"
  khdrs="-idirafter /usr/$triple/include"
fi

missing() {
  m=""
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || m="$m $p"
  done
  echo "$m"
}

case $what in
  toolchain)
    m=$(missing)
    [ -z "$m" ] && exit 0
    echo "cross-build: installing$m" >&2
    [ "$arch" = "$build_arch" ] || dpkg --add-architecture "$arch"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $m >/dev/null
    ;;
  init-helper)
    [ -n "$out" ] || die "init-helper: OUT missing"
    # The size budget of init-helper/Makefile holds on arm64 only without RELRO padding: GNU ld aligns the end of
    # the RELRO segment to the 64 KiB maximum page size there. musl applies no RELRO in a static executable
    # anyway, and 64 KiB alignment keeps the binary loadable on 64 KiB-page kernels.
    ldflags=""
    [ "$arch" = arm64 ] && ldflags="-Wl,-z,norelro"
    make -s -C init-helper B="$out" CC="$cc" EXTRA_CFLAGS="-ffile-prefix-map=/src=." EXTRA_LDFLAGS="$ldflags"
    file_arch=$(readelf -h "$out/podfence-init" | sed -n 's/^ *Machine: *//p')
    echo "cross-build: $out/podfence-init ($file_arch, $(wc -c <"$out/podfence-init") bytes)" >&2
    ;;
  audit-tap)
    [ -n "$out" ] || die "audit-tap: OUT missing"
    make -s -C audit-tap B="$out" CC="$cc" KHDRS="$khdrs" EXTRA_CFLAGS="-ffile-prefix-map=/src=."
    echo "cross-build: $out/audit-tap ($(readelf -h "$out/audit-tap" | sed -n 's/^ *Machine: *//p'))" >&2
    ;;
  busybox)
    [ -n "$out" ] || die "busybox: OUT missing"
    # A prepared builder carries the .debs in /opt/podfence-debs; otherwise apt fetches the target's package.
    deb=$(ls /opt/podfence-debs/busybox-static_*_"$arch".deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
      [ "$arch" = "$build_arch" ] || dpkg --add-architecture "$arch"
      apt-get update -qq
      tmp=$(mktemp -d)
      (cd "$tmp" && apt-get download -qq "busybox-static:$arch")
      deb=$(ls "$tmp"/busybox-static_*_"$arch".deb)
    fi
    x=$(mktemp -d)
    dpkg-deb -x "$deb" "$x"
    mkdir -p "$out"
    install -m 0755 "$x/bin/busybox" "$out/busybox"
    ln -sf busybox "$out/mount"
    ln -sf busybox "$out/umount"
    dpkg-deb -f "$deb" Package Version Architecture | tr '\n' ' ' >&2
    echo >&2
    ;;
  *) die "unknown step '$what'" ;;
esac
