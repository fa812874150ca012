"""Divergence service: KL divergence and its family over HTTP."""

__version__ = "0.1.0"
