"""The HTTP server and what wraps every request: the protocol and its limits, middleware
(request observer, body limit), error handlers, and the operations routes (health,
metrics). It sits above the domains and imports them; they never import it."""
