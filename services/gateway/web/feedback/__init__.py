"""Young person: a check-in opened from a link."""
