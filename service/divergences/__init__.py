"""The divergence domain: pure formulas, the catalog, input checks, schemas and routes."""
