"""Everyone: the start page, signing in and out."""
