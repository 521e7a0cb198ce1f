"""The programme lead's admin pages."""
