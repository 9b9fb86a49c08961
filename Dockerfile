# The ledger API as a container; docker-compose.yml wires it to PostgreSQL 15.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the package needs: no .venv, var/ or tests in the image.
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY infrastructure ./infrastructure
COPY api ./api
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app ledger \
    && mkdir -p /data \
    && chown ledger /data

USER ledger

# Production by default: the server refuses to start without LEDGER_SECRET_KEY.
# /data holds the SQLite file when no LEDGER_DATABASE_URL is given.
ENV LEDGER_ENVIRONMENT=production \
    LEDGER_SQLITE_PATH=/data/ledger.sqlite \
    HOST=0.0.0.0 \
    PORT=8000

EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["ledger", "serve"]
