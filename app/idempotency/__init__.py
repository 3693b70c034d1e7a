"""Idempotency keys: a repeated request with the same key gets the first answer instead of doing the work twice."""
