# One image for every reviewflow process; docker-compose.yml picks the entry point per service.
# Runs the TypeScript sources with tsx (a runtime dependency), as `npm start` does.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0

# dependencies first, so a source change does not reinstall them
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY gen ./gen
COPY lib ./lib
COPY services ./services
COPY emulator ./emulator
COPY scripts ./scripts

USER node
EXPOSE 8001 8002 8080 8090
# the gateway by default; compose overrides per service
CMD ["node", "--import", "tsx", "services/gateway/main.ts"]
