"""Plain-Python domain model: no Flask, no database session."""
