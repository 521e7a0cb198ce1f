"""A parent's or carer's pages: their own children's budgets, plans and check-ins."""
