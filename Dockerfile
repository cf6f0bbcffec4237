# syntax=docker/dockerfile:1
# Node 20.20, the version the test suite runs on (README "Node versions").
# Build stage: compile TypeScript with the dev dependencies.
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
# The developer kit (src/devkit: agent server, person server, echo backend, request signer) is
# not shipped (README "The developer kit"); only its key maker stays, for `aauth-gateway keygen`.
RUN npx tsc -p tsconfig.json && npm prune --omit=dev \
  && find dist/src/devkit -type f ! -name keys.js -delete

# Runtime stage: compiled code, production dependencies, default config and policies; non-root.
FROM node:20.20-bookworm-slim
ENV NODE_ENV=production AAUTH_LISTEN=0.0.0.0:8080 AAUTH_ADMIN=0.0.0.0:9091
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY bin ./bin
COPY config ./config
COPY policies ./policies
# config/gateway.yaml signs resource tokens with .aauth/resource.jwk.json (README "Quick start").
RUN mkdir -m 0700 .aauth && chown node:node .aauth
USER node
# 9091, not 9090: that is Prometheus's own port.
EXPOSE 8080 9091
# /readyz on the admin listener, at AAUTH_ADMIN (the address config/gateway.yaml binds `admin`
# to), so a run with -e AAUTH_ADMIN=... is still checked where it listens (bin/healthcheck.js).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "bin/healthcheck.js"]
# A container's first start writes that key when it is missing and the directory is writable (a
# key is never baked into the image; mount one at /app/.aauth/resource.jwk.json to keep it across
# containers). A read-only root filesystem skips it: its config then names its own key, or none.
# `exec` keeps node as PID 1, so SIGTERM drains.
ENTRYPOINT ["/bin/sh", "-c", "[ -e .aauth/resource.jwk.json ] || [ ! -w .aauth ] || node bin/aauth-gateway.js keygen --out .aauth/resource.jwk.json; exec node bin/aauth-gateway.js \"$@\"", "aauth-gateway"]
CMD ["serve", "--config", "config/gateway.yaml"]
