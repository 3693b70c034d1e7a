"""Enterprises (企业): the companies that host studios and post needs."""
