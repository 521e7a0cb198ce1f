"""The advisor's worklist page and its count on the navigation."""
