"""Commissioners, the Panel, the programme lead: the report for a period, and cohort sizes."""
