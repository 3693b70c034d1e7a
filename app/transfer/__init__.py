"""Administrators' XLSX transfer: import templates, all-or-nothing imports and exports (issue 5, item 7)."""
