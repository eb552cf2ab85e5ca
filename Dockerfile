# syntax=docker/dockerfile:1
# ClientDesk, production shape: one image for web (gunicorn), the Celery worker, beat and the one-shot migrate.
# Built by `docker compose build`; see docker-compose.yml for how the services run it.

# --- Front-end libraries: Bootstrap and HTMX from the npm registry at build time, never from a CDN ---------------------
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- The application ---------------------------------------------------------------------------------------------------
FROM python:3.13-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# The processes run as this user; the code and collected static files stay root-owned and read-only to it.
RUN groupadd --system --gid 10001 clientdesk \
    && useradd --system --uid 10001 --gid clientdesk --home-dir /app --no-create-home --shell /usr/sbin/nologin clientdesk

# WeasyPrint's system libraries (Pango) and a font with Cyrillic, for the printed documents.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change does not reinstall them: the locked versions `make run` installs, hash-checked.
COPY requirements/app.txt requirements/app.txt
RUN python -m pip install --require-hashes -r requirements/app.txt

COPY . .
# Only the built files of each library, at the paths STATICFILES_DIRS names (BASE_DIR/node_modules/<package>/dist).
COPY --from=assets /assets/node_modules/bootstrap/dist /app/node_modules/bootstrap/dist
COPY --from=assets /assets/node_modules/htmx.org/dist /app/node_modules/htmx.org/dist
COPY --from=assets /assets/node_modules/chart.js/dist /app/node_modules/chart.js/dist

# Production settings refuse a SECRET_KEY shorter than 50 characters, even for collectstatic. This one exists only for
# this build step (it is not an ENV, so the running containers never see it); the real key comes from the environment.
ARG BUILD_SECRET_KEY=build-only-throwaway-key-for-collectstatic-never-used-at-run-time-0123456789
RUN DJANGO_SETTINGS_MODULE=clientdesk.settings.production SECRET_KEY="$BUILD_SECRET_KEY" \
    python manage.py collectstatic --noinput

# var/ is the one writable place: beat keeps its schedule file in var/beat (a volume in docker-compose.yml).
RUN mkdir -p /app/var/beat && chown -R clientdesk:clientdesk /app/var

USER clientdesk:clientdesk
EXPOSE 8000
CMD ["gunicorn", "clientdesk.wsgi:application", "--config", "docker/gunicorn.conf.py"]
