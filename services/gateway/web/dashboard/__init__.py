"""Budget holder, finance, programme lead: the programme dashboard."""
