-- One database per service: no service reads another's tables.
CREATE DATABASE phb_directory OWNER phb;
CREATE DATABASE phb_budget OWNER phb;
CREATE DATABASE phb_outcomes OWNER phb;
