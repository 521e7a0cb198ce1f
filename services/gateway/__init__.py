"""The gateway: the one public door (auth, routing, request ids, API docs, web pages)."""
