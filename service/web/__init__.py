"""What every domain's routes share: reading bodies, API keys, the settings dependency and
the documented error answers. Below the domains, above the core."""
