"""Budget holder: requests waiting for a decision."""
