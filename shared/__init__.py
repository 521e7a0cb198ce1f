"""The suite's small common library: what every service needs, never a service's models."""
