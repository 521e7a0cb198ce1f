# syntax=docker/dockerfile:1
# One image for every process of the suite: web (`phb serve SERVICE`), workers (`phb worker
# SERVICE`), the migrations job (`phb migrate`) and backups (`phb backup`).
#
# Three stages: GOV.UK Frontend from npm's lock file (node), a virtual environment built from
# requirements/runtime.txt with every hash checked (python), and a slim runtime that has neither
# npm nor a compiler. Bases are pinned by digest; docs/operations.md says how to refresh them.

FROM node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c AS assets
WORKDIR /assets
COPY deploy/assets/package.json deploy/assets/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
    && mkdir -p /out/govuk \
    && cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css \
          node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js /out/govuk/ \
    && cp -r node_modules/govuk-frontend/dist/govuk/assets /out/govuk/assets

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements/build.txt requirements/runtime.txt requirements/
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements/runtime.txt \
    && python -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes --no-deps -r requirements/build.txt
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY --from=assets /out/govuk ./services/gateway/static/govuk
# The GOV.UK crown and GDS Transport are for GOV.UK only: dropped before the wheel is built.
RUN /opt/venv/bin/python -c "import services.gateway.assets as a; a.strip_govuk_only()" \
    && /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/wheel . \
    && /opt/venv/bin/pip install --no-deps /tmp/wheel/*.whl \
    && cd / && /opt/venv/bin/python -c "import services.gateway.assets as a; assert a.installed()"

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PHB_VAR_DIR=/var/lib/phb \
    PORT=8000
# pg_dump and pg_restore for `phb backup` and `phb restore` (PostgreSQL 15, as in deploy/).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 phb \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/phb --shell /usr/sbin/nologin phb \
    && mkdir -p /var/lib/phb \
    && chown 10001:10001 /var/lib/phb
COPY --from=build /opt/venv /opt/venv
WORKDIR /var/lib/phb
USER 10001:10001
EXPOSE 8000 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-m", "shared.healthcheck"]
ENTRYPOINT ["phb"]
CMD ["serve", "gateway"]
