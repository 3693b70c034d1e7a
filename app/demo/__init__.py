"""Demo data written for the project, and its idempotent loader."""
