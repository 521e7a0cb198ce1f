"""Provider: their organisation, requests and listings."""
