# One image for every service; docker-compose.yml picks the service with PHB_SERVICE.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PHB_VAR_DIR=/var/lib/phb
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends npm curl \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir . && python -m services.gateway.assets \
    && useradd --system --home /var/lib/phb phb && mkdir -p /var/lib/phb && chown phb /var/lib/phb
USER phb
# migrate the service's own database, then serve it with gunicorn (threads: the relays run beside).
CMD ["sh", "-c", "phb serve \"$PHB_SERVICE\""]
