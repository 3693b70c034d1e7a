"""Cooperation agreements (结对 / 合作协议) and the work logged under them."""
