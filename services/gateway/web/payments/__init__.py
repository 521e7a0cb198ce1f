"""Finance: ordering and paying approved requests."""
