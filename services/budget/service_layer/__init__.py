"""Use cases: each function is one thing a user or another service asks for."""
