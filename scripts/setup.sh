#!/usr/bin/env bash
# Installs everything podfence needs on a fresh Debian 12 machine of the `go` kind:
# Debian packages, npm dependencies, the TypeScript build and the static init helper.
# Upstream Kubernetes binaries are built (and cached) separately by test/cluster/build-binaries.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

need_pkgs=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$pkg")
done < scripts/apt-packages.txt
if ((${#need_pkgs[@]})); then
  say "installing Debian packages: ${need_pkgs[*]}"
  if [[ $(id -u) -ne 0 ]]; then echo "setup: root is needed to install Debian packages" >&2; exit 1; fi
  # Packages of another architecture (musl-dev:arm64 for the arm64 images) need it added to dpkg first.
  for pkg in "${need_pkgs[@]}"; do
    [[ $pkg == *:* ]] || continue
    dpkg --print-foreign-architectures | grep -qx "${pkg#*:}" || dpkg --add-architecture "${pkg#*:}"
  done
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
# Debian's packages may start their own daemons; podfence runs its own instances with their own paths.
for svc in containerd docker-registry; do
  command -v systemctl >/dev/null 2>&1 && systemctl disable --now "$svc" >/dev/null 2>&1 || true
done

for tool in node npm go gcc make; do
  command -v "$tool" >/dev/null || { echo "setup: '$tool' is missing (this project expects the 'go' machine kind)" >&2; exit 1; }
done

say "installing npm dependencies"
if [[ -d node_modules && node_modules/.package-lock.json -nt package-lock.json ]]; then
  echo "node_modules is up to date"
else
  npm ci --no-audit --no-fund --loglevel=error
fi

say "building TypeScript and the C helpers (npm run build)"
# Skipped when nothing it reads changed since the last successful build (the demo runs this every time; tsc alone
# takes 20-45 s on a busy 2-core machine). dist/ removed = stamp gone = full build.
stamp=dist/.podfence-build-stamp
changed() {
  find src scripts bench init-helper audit-tap package.json package-lock.json tsconfig.json tsconfig.build.json \
    -type f -newer "$stamp" -not -path '*/build/*' -print -quit 2>/dev/null
}
if [[ -f $stamp && -z $(changed) ]]; then
  echo "up to date (nothing changed since the last build)"
else
  npm run -s build
  touch "$stamp"
fi
