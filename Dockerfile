# syntax=docker/dockerfile:1
# The podfence operator image: one image for every mode, chosen by the first argument:
#   docker run IMAGE controller | webhook | node-agent   (see `podfence --help`)
# Build:  docker build -t REGISTRY/podfence/operator:VERSION .
# Reproducible: pin the base by digest (--build-arg NODE_IMAGE=node:24-alpine@sha256:...), build from a clean
# checkout (package-lock.json pins every npm package; npm ci installs exactly it) and set SOURCE_DATE_EPOCH
# (BuildKit then clamps file times: --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)).
# No native npm modules are used, so the musl (alpine) base works as well as a glibc one.
ARG NODE_IMAGE=node:24-alpine

# --- build: compile TypeScript with the dev dependencies ----------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# --- audit-tap: the static audit record reader the node agent runs for denials (audit-tap/) --------------------
FROM ${NODE_IMAGE} AS audit-tap
RUN apk add --no-cache gcc musl-dev make linux-headers binutils
WORKDIR /src/audit-tap
COPY audit-tap/ ./
RUN make clean >/dev/null 2>&1 || true; make CC=gcc EXTRA_CFLAGS="-ffile-prefix-map=/src=." && test -x build/audit-tap

# --- deps: production node_modules only ---------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ARG SOURCE_DATE_EPOCH
LABEL org.opencontainers.image.title="podfence operator" \
      org.opencontainers.image.description="podfence controller, admission webhook and node agent (mode = first argument)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# npm and corepack are not needed at run time: less code in the image, fewer CVEs to triage.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist/src ./dist/src
COPY --chown=0:0 package.json ./
# gRPC service definitions of the node agent's CSI plugin, loaded at run time.
COPY --chown=0:0 proto ./proto
COPY --from=audit-tap --chown=0:0 --chmod=0755 /src/audit-tap/build/audit-tap /usr/local/bin/audit-tap
# Non-root (the chart also sets runAsUser/runAsNonRoot); files stay root-owned and read-only to the process, so
# the image runs with readOnlyRootFilesystem: true (Node.js needs no writable path; the chart mounts /tmp).
USER 65532:65532
EXPOSE 9443 8081
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["--help"]
