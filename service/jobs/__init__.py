"""The jobs domain: records, queue, worker, schemas, routes and reports."""
