"""User accounts, roles, login, sessions and bearer tokens."""
