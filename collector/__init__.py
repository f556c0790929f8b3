"""FastAPI ingestion service: auth, validation, redaction, /metrics, health."""
