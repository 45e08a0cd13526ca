# One image for every Python component: `em backend|orderbook|reality|operator|migrate|smoke`.
# Build: docker build -t everything-market:dev .
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    EM_MIGRATIONS_DIR=/app/migrations \
    PLAYWRIGHT_CHROMIUM_EXECUTABLE=/usr/bin/chromium

# Chromium renders the Reality Engine's JavaScript-only news pages (Playwright drives it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/main.txt requirements/main.txt
RUN pip install --require-hashes -r requirements/main.txt

COPY pyproject.toml README.md alembic.ini ./
COPY services services
COPY operator operator
COPY migrations migrations
COPY sources.yaml sources.yaml
RUN pip install --no-deps --no-build-isolation . \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin em

USER 10001
ENTRYPOINT ["/usr/bin/tini", "--", "em"]
CMD ["--help"]
