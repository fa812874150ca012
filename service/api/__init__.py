"""HTTP plumbing shared by the domain routers: dependencies, body parsing, health."""
