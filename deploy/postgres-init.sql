-- One database per service: no service reads another's tables.
CREATE DATABASE phb_directory OWNER phb;
CREATE DATABASE phb_budget OWNER phb;
CREATE DATABASE phb_outcomes OWNER phb;
-- The gateway's own: server-side web sessions and the provider-user map (no business data).
CREATE DATABASE phb_gateway OWNER phb;
