# Production image: gunicorn for web, the same image runs the Celery worker and beat.
FROM node:20-bookworm-slim AS static
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev \
 && mkdir -p /vendor \
 && cp node_modules/htmx.org/dist/htmx.min.js node_modules/@picocss/pico/css/pico.min.css /vendor/ \
 && cp node_modules/chart.js/dist/chart.umd.min.js /vendor/chart.min.js

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock ./
COPY . .
COPY --from=static /vendor/ static/vendor/
RUN pip install --no-cache-dir -c requirements.lock -e . \
 && SECRET_KEY=build-only-not-secret python manage.py collectstatic --no-input \
 && SECRET_KEY=build-only-not-secret python manage.py compilemessages -v 0
RUN useradd --system --home /app linkage && mkdir -p /app/var /app/media && chown -R linkage /app/var /app/media
USER linkage
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
