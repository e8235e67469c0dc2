# consumerd on Deno, with sandboxed workers.
#
#   docker build -t consumerd .
#   podman build --format docker -t consumerd .   # podman's default (OCI) format drops HEALTHCHECK
#   docker run --rm -v "$PWD/deploy/config:/etc/consumerd:ro" \
#     -e KAFKA_BROKERS=kafka:9092 -e CONSUMERD_TOKEN=… --stop-timeout 40 consumerd
#
# The config and handler modules are mounted at /etc/consumerd/ (CONSUMERD_CONFIG points at
# /etc/consumerd/consumers.yaml; handler paths in it are relative to it). Secrets come in as
# environment variables, referenced as ${VAR} in the file.
#
# Stop: SIGTERM (STOPSIGNAL) makes the daemon drain: stop fetching, finish in-flight handlers,
# commit, leave the group, exit 0, within shutdown.gracePeriodMs (30 s by default). Give the
# container a longer stop timeout (docker run --stop-timeout 40, compose stop_grace_period: 40s,
# Kubernetes terminationGracePeriodSeconds: 45); docker's default of 10 s cuts a drain short.

# ---- build: install the pinned runtime and libraries with npm ci --------------------------
# Node 22: @platformatic/kafka and its helpers declare node >= 22.19 (npm ci warns EBADENGINE on 20).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY deno.json ./
COPY src/ src/
COPY scripts/build.ts scripts/bun_bundle.ts scripts/compile.ts scripts/worker_library.ts scripts/
# The worker bundle (dist/worker/): workers start from it, faster and smaller than from the
# TypeScript sources. Then keep the deno binary (a devDependency) and drop the other development
# packages (bun, the benchmark client, type declarations) and the build scripts.
RUN node_modules/deno/deno run -A scripts/build.ts \
  && mv node_modules/deno/deno .deno-binary \
  && npm prune --omit=dev --no-audit --no-fund \
  && mkdir -p node_modules/deno \
  && mv .deno-binary node_modules/deno/deno \
  && rm -r scripts

# ---- run: the daemon is PID 1, as an unprivileged user ------------------------------------
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 consumerd \
  && useradd --system --uid 10001 --gid consumerd --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin consumerd \
  && mkdir -p /etc/consumerd
WORKDIR /app
COPY --from=build /app /app
ENV CONSUMERD_CONFIG=/etc/consumerd/consumers.yaml \
  DENO_DIR=/tmp/deno \
  DENO_NO_UPDATE_CHECK=1 \
  NO_COLOR=1
USER 10001:10001
# The status server (http.listen in the mounted config): /healthz, /readyz, /metrics, /status.
EXPOSE 9464
STOPSIGNAL SIGTERM
# No curl in the image: Deno itself asks /healthz. CONSUMERD_HEALTH_URL overrides the address.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node_modules/deno/deno", "eval", "const r = await fetch(Deno.env.get('CONSUMERD_HEALTH_URL') ?? 'http://127.0.0.1:9464/healthz').catch(() => null); Deno.exit(r?.ok ? 0 : 1);"]
# Exec form, no shell and no npm in between: the daemon is PID 1 and receives SIGTERM itself.
CMD ["node_modules/deno/deno", "run", "-A", "--unstable-worker-options", "--v8-flags=--expose-gc", "src/main.ts", "run"]
