"""Data: ingest the raw source, declare its schema, validate it and split it."""
