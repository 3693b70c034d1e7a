"""Matcher proposals (匹配建议) pairing an order with an expert."""
