"""Advisor: find an activity, see a listing, shortlist it, fund it for a young person."""
