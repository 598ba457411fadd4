# prorata API and worker image. glibc base: Temporal's core bridge ships no musl (Alpine) build.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# tsc, then the prebuilt workflow bundle (dist/workflow-bundle.js) the worker loads.
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
USER node
EXPOSE 3000
# The worker runs the same image: command ["node", "dist/worker/main.js"].
CMD ["node", "dist/api/main.js"]
