"""Async data access: the only place that builds queries. Repositories flush, never commit."""
