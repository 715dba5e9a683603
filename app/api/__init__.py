"""HTTP routers. Routers hold no SQL: they call repositories through dependencies."""
