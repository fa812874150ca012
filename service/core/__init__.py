"""The core every package stands on: the settings and the exceptions (no HTTP here)."""
