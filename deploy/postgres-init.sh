#!/bin/sh
# compose: the postgres image runs this once, on an empty data folder, to apply postgres-init.sql
# with the per-service passwords from the environment.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v directory_password="$DIRECTORY_DB_PASSWORD" \
  -v budget_password="$BUDGET_DB_PASSWORD" \
  -v outcomes_password="$OUTCOMES_DB_PASSWORD" \
  -v gateway_password="$GATEWAY_DB_PASSWORD" \
  -f /docker-entrypoint-initdb.d/phb/postgres-init.sql
