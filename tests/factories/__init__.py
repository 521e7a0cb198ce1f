"""Factories: tests build the records they need, through the services' own APIs or tables."""
