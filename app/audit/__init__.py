"""The append-only audit trail of every change a service makes."""
