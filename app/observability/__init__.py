"""Request ids, metrics and access logs: what operators watch the API through."""
