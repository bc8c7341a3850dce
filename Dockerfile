# Production image for the API and the worker (same image, different command).
# Multi-stage: dependencies are installed with dev tools, the runtime stage keeps only prod deps.
FROM node:20.20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM node:20.20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json worker.ts ./
COPY activities ./activities
COPY api ./api
COPY config ./config
COPY db ./db
COPY domain ./domain
COPY providers ./providers
COPY runtime ./runtime
COPY workflows ./workflows
USER node
EXPOSE 3000
# tsx runs the TypeScript sources directly (it is a production dependency for that reason).
CMD ["node", "--import=tsx", "api/server.ts"]
