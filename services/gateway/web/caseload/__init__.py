"""Advisor: the caseload of young people, their plans, requests and check-ins."""
