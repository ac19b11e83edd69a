# syntax=docker/dockerfile:1.7
#
# One image for every smshub process (services ingress, routing, egress, dlr, rating, webhooks, http-api,
# admin; the smsc-simulator tool; the ops "setup" job). The process is chosen at run time by the command:
#
#   docker run smshub services/ingress/dist/main.js
#   docker run smshub tools/ops/dist/main.js setup
#   docker run smshub tools/hubctl/dist/main.js --help
#
# Why one image rather than a target per service: every bundle shares the same external runtime
# dependencies (kafkajs, pg, argon2, OpenTelemetry, ...), which are most of the image; the bundles
# themselves are small. One image means one build, one vulnerability scan, one tag to promote and
# roll back, and the Helm chart and compose file only differ in the command.
#
# Versions are pinned here and nowhere else in this file. Pin NODE_IMAGE by digest in your registry
# mirror once you have resolved it (docker buildx imagetools inspect node:20.20.2-bookworm-slim):
#   docker build --build-arg NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:<digest> .
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---------------------------------------------------------------------------------------------------
# manifests: only the package.json files and the lockfile, at their paths, so `npm ci` below is
# cached until a dependency changes (not on every source edit).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && cp package.json package-lock.json .npmrc /manifests/ \
 && find libs services tools -mindepth 2 -maxdepth 2 -name package.json -not -path '*/node_modules/*' \
      -exec cp --parents {} /manifests/ \;

# ---------------------------------------------------------------------------------------------------
# build: all dependencies (dev included), then `npm run build`, which produces one esbuild bundle
# per process at services/<name>/dist/main.js, tools/smsc-simulator/dist/main.js, tools/ops/dist/main.js.
FROM ${NODE_IMAGE} AS build
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=true CI=true
WORKDIR /src
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build
# Gather what the runtime needs into /out, keeping the repository layout (the bundles and the setup
# job resolve libs/db/migrations relative to it). Every deployable with a src/main.ts must have its bundle:
# a missing one fails the build here, not at run time.
RUN set -eu; mkdir -p /out; \
    for main in services/*/src/main.ts tools/smsc-simulator/src/main.ts tools/ops/src/main.ts tools/hubctl/src/main.ts; do \
      p="${main%/src/main.ts}"; \
      test -f "$p/dist/main.js" || { echo "missing bundle $p/dist/main.js: did npm run build build it?" >&2; exit 1; }; \
      mkdir -p "/out/$p"; cp -r "$p/dist" "/out/$p/dist"; cp "$p/package.json" "/out/$p/package.json"; \
    done; \
    ls libs/db/migrations/*.sql >/dev/null; \
    mkdir -p /out/libs/db; cp -r libs/db/migrations /out/libs/db/migrations
# tools/ops finds libs/db/migrations by walking up from its bundle (or MIGRATIONS_DIR).

# ---------------------------------------------------------------------------------------------------
# deps: production dependencies only (the externals the bundles import at run time). argon2 brings
# its prebuilt native binary for linux-x64/arm64 glibc, so no compiler is needed.
# Workspace packages (node_modules/@smshub/*) are symlinks into libs/, which the image does not hold:
# their code is inside the bundles, so the links are removed. A dependency whose version conflicts with
# the hoisted one lands in <workspace>/node_modules, where that process's bundle resolves it from:
# those are kept for services and tools.
# Only the deployed workspaces (services/*, the simulator, ops, hubctl for `kubectl exec ... hubctl`) and what they depend on: libs/testing's
# testcontainers and the developer tools stay out of the image.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund --workspace=services --workspace=tools/smsc-simulator --workspace=tools/ops --workspace=tools/hubctl
RUN set -eu; rm -rf node_modules/@smshub; mkdir /out; mv node_modules /out/node_modules; \
    for d in services/*/node_modules tools/*/node_modules; do \
      if [ -d "$d" ]; then mkdir -p "/out/$(dirname "$d")"; mv "$d" "/out/$d"; fi; \
    done

# ---------------------------------------------------------------------------------------------------
# runtime
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="smshub" \
      org.opencontainers.image.description="smshub SMS hub: one image for every service, the SMSC simulator and the setup job" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# The processes listen on 127.0.0.1 unless told (right on a developer's machine); in a container every
# listener takes the container's interfaces. Who may reach them is the orchestrator's business (published
# ports, NetworkPolicy).
ENV NODE_ENV=production \
    HTTP_PORT=9400 \
    HTTP_HOST=0.0.0.0 \
    GRPC_HOST=0.0.0.0 \
    SMPP_HOST=0.0.0.0 \
    SIM_HOST=0.0.0.0 \
    HTTP_API_HOST=0.0.0.0 \
    SMSHUB_VERSION=${VERSION}
WORKDIR /app
RUN groupadd --system --gid 10001 smshub \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin smshub
# Files stay owned by root and read-only for the process user: the container can run with a
# read-only root filesystem (the Helm chart does).
COPY package.json ./
COPY --from=deps /out/ ./
COPY --from=build /out/ ./
USER 10001:10001
# HTTP (/livez, /readyz, /metrics), SMPP, SMPP over TLS, simulator SMPP, gRPC admin/dlr/rating.
EXPOSE 9400 2775 3550 2776 50051 50052 50053
# Liveness only: readiness (/readyz) is for orchestrators that route traffic (Kubernetes, compose's
# depends_on). node's fetch keeps the image free of curl/wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||9400)+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node"]
# No default process: say how to choose one instead of silently starting something.
CMD ["-e", "console.error('smshub image: give the process to run, e.g. services/ingress/dist/main.js, tools/smsc-simulator/dist/main.js or tools/ops/dist/main.js setup'); process.exit(64)"]
