"""Database layer: declarative base, column types, engine and sessions."""
