-- One database and one login role per service (the gateway's sessions too): each role owns its
-- own database and nothing else, so no service can read another's tables. Run once, as a
-- superuser, with psql, passing each role's password as a psql variable (never in this file):
--
--   psql -v ON_ERROR_STOP=1 \
--        -v directory_password="$DIRECTORY_DB_PASSWORD" \
--        -v budget_password="$BUDGET_DB_PASSWORD" \
--        -v outcomes_password="$OUTCOMES_DB_PASSWORD" \
--        -v gateway_password="$GATEWAY_DB_PASSWORD" \
--        -f deploy/postgres-init.sql
--
-- compose runs it through deploy/postgres-init.sh. Connection limits keep one service's leak
-- from starving the others (docs/operations.md has the arithmetic against max_connections).

CREATE ROLE phb_directory LOGIN PASSWORD :'directory_password' CONNECTION LIMIT 30;
CREATE ROLE phb_budget LOGIN PASSWORD :'budget_password' CONNECTION LIMIT 30;
CREATE ROLE phb_outcomes LOGIN PASSWORD :'outcomes_password' CONNECTION LIMIT 30;
CREATE ROLE phb_gateway LOGIN PASSWORD :'gateway_password' CONNECTION LIMIT 20;

CREATE DATABASE phb_directory OWNER phb_directory;
CREATE DATABASE phb_budget OWNER phb_budget;
CREATE DATABASE phb_outcomes OWNER phb_outcomes;
-- The gateway's own: server-side web sessions and the provider-user map (no business data).
CREATE DATABASE phb_gateway OWNER phb_gateway;

-- Nobody but the owner may connect (PUBLIC has CONNECT by default).
REVOKE ALL ON DATABASE phb_directory FROM PUBLIC;
REVOKE ALL ON DATABASE phb_budget FROM PUBLIC;
REVOKE ALL ON DATABASE phb_outcomes FROM PUBLIC;
REVOKE ALL ON DATABASE phb_gateway FROM PUBLIC;

-- Statements that run away are stopped; migrations and backups lift the limit for themselves.
ALTER ROLE phb_directory SET statement_timeout = '30s';
ALTER ROLE phb_budget SET statement_timeout = '30s';
ALTER ROLE phb_outcomes SET statement_timeout = '30s';
ALTER ROLE phb_gateway SET statement_timeout = '30s';
ALTER ROLE phb_directory SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE phb_budget SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE phb_outcomes SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE phb_gateway SET idle_in_transaction_session_timeout = '60s';
