"""Database schema, engines, bulk writes and reads. Dialect specifics live here only."""
