# syntax=docker/dockerfile:1
# The podfence operator image: one image for every mode, chosen by the first argument:
#   docker run IMAGE controller | webhook | node-agent   (see `podfence --help`)
# Build (both architectures, from the repository root):
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/podfence/operator:VERSION --push .
# Without Docker: `npm run images` (buildah, bases assembled locally; docs/install.md).
# Cross-build: every RUN is in a stage on the build platform (TypeScript, npm ci, the C program cross-compiled with
# Debian's cross gcc and musl); the final stage only copies, so an arm64 image needs no emulation on amd64.
# Reproducible: pin the bases by digest (--build-arg BUILD_IMAGE=node:24-bookworm-slim@sha256:... and the same for
# NODE_IMAGE and RUNTIME_IMAGE), build from a clean checkout (package-lock.json pins every npm package) and set
# SOURCE_DATE_EPOCH=$(git log -1 --format=%ct).
# Build platform: Debian 12 with Node.js and npm (apt installs the C toolchain the target needs).
ARG BUILD_IMAGE=node:24-bookworm-slim
# Target platform: the Node.js LTS binary is copied out of it (/usr/local/bin/node, official glibc build).
ARG NODE_IMAGE=node:24-bookworm-slim
# Target platform: what that binary links (glibc, libstdc++), no shell, no package manager, user nonroot 65532.
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# --- build: compile TypeScript with the dev dependencies ----------------------------------------------------
FROM --platform=$BUILDPLATFORM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# --- deps: production node_modules only (no native modules: the same files serve every architecture) ---------
FROM --platform=$BUILDPLATFORM ${BUILD_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf /root/.npm

# --- native: the static programs for the target (audit-tap for denials; busybox mount/umount for the CSI plugin)
FROM --platform=$BUILDPLATFORM ${BUILD_IMAGE} AS native
ARG TARGETARCH
WORKDIR /src
COPY images/cross-build.sh /usr/local/bin/podfence-cross-build
RUN podfence-cross-build toolchain "$TARGETARCH"
COPY audit-tap/ ./audit-tap/
RUN rm -rf audit-tap/build \
 && podfence-cross-build audit-tap "$TARGETARCH" /out/usr/local/bin \
 && podfence-cross-build busybox "$TARGETARCH" /out/usr/local/bin

# --- node: the target's Node.js binary (nothing runs in this stage) ---------------------------------------------
FROM --platform=$TARGETPLATFORM ${NODE_IMAGE} AS node

# --- runtime ------------------------------------------------------------------------------------------------
FROM --platform=$TARGETPLATFORM ${RUNTIME_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
# The repository the image was built from (build-images.sh passes the checkout's origin URL).
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="podfence operator" \
      org.opencontainers.image.description="podfence controller, admission webhook and node agent (mode = first argument)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=node --chown=0:0 --chmod=0755 /usr/local/bin/node /usr/local/bin/node
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist/src ./dist/src
COPY --chown=0:0 package.json ./
# gRPC service definitions of the node agent's CSI plugin, loaded at run time.
COPY --chown=0:0 proto ./proto
COPY --from=native --chown=0:0 /out/ /
# Non-root (the chart also sets runAsUser/runAsNonRoot); files stay root-owned and read-only to the process, so
# the image runs with readOnlyRootFilesystem: true (Node.js needs no writable path; the chart mounts /tmp).
USER 65532:65532
EXPOSE 9443 8081
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/src/cli.js"]
CMD ["--help"]
