# studio-match service image. Not built in our development sandbox (no Docker engine there): keep it simple.
#   docker build -t studio-match .
#   docker run --rm -e STUDIO_MATCH_DATABASE_URL=postgresql+asyncpg://user:pass@db/studio_match \
#              -e STUDIO_MATCH_SECRET_KEY=... studio-match studio-match migrate      # once per release
#   docker run -p 8000:8000 -e STUDIO_MATCH_DATABASE_URL=... -e STUDIO_MATCH_SECRET_KEY=... studio-match
# the pages' front-end libraries (ECharts, htmx) from the npm registry, pinned by package-lock.json
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system app && useradd --system --gid app --home-dir /srv/studio-match app

WORKDIR /srv/studio-match
# dependencies first, so code changes do not reinstall them
COPY pyproject.toml README.md ./
COPY app/__init__.py app/__init__.py
COPY matching/__init__.py matching/__init__.py
RUN pip install .  && pip uninstall -y studio-match

COPY app app
COPY matching matching
COPY migrations migrations
COPY --from=assets /assets/node_modules node_modules
COPY alembic.ini ./
# editable install: `studio-match migrate` finds migrations/ next to app/
RUN pip install --no-deps -e . && chown -R app:app /srv/studio-match
# bytecode compiled once here: with PYTHONDONTWRITEBYTECODE every worker would otherwise compile every
# module it imports at each start (1.3 s of a worker's start-up on the benchmark machine)
RUN python -m compileall -q /srv/studio-match/app /srv/studio-match/matching /srv/studio-match/migrations \
    && python -m compileall -q "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

USER app
EXPOSE 8000
# the database URL and secret key come from the environment; migrations run as a separate command
CMD ["uvicorn", "app.main:create_app_from_env", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--proxy-headers", "--timeout-graceful-shutdown", "20", "--no-access-log"]
