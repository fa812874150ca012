"""The batch formats of the divergence routes: JSON arrays, Apache Arrow, NDJSON streams."""
