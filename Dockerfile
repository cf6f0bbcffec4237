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
USER node
# 9091, not 9090: that is Prometheus's own port.
EXPOSE 8080 9091
# /readyz on the admin listener, at AAUTH_ADMIN (the address config/gateway.yaml binds `admin`
# to), so a run with -e AAUTH_ADMIN=... is still checked where it listens (bin/healthcheck.js).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/aauth-gateway.js"]
CMD ["serve", "--config", "config/gateway.yaml"]
