# Production image for the API and the worker (same image, different command).
# Build stage: compile TypeScript and bundle the workflow code once (npm run build → dist/).
# Runtime stage: production dependencies and dist/ only; processes start with plain `node`.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json worker.ts ./
COPY activities ./activities
COPY api ./api
COPY config ./config
COPY db ./db
COPY domain ./domain
COPY providers ./providers
COPY wiring ./wiring
COPY scripts ./scripts
COPY workflows ./workflows
RUN npm run build

FROM node:24.22.3-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# Install scripts stay off; our own patches to dependencies (patches/, see README) are applied here.
RUN npm ci --omit=dev --ignore-scripts && npx patch-package

FROM node:24.22.3-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
# The worker: MALLOC_ARENA_MAX=2 node --max-old-space-size=128 --max-semi-space-size=16 dist/worker.js (README "Worker memory"). Tenants: node dist/scripts/tenants.js create <name>. Undeliverable webhooks: node dist/scripts/webhooks.js undeliverable.
CMD ["node", "dist/api/server.js"]
