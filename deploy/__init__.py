"""Deployment helpers: the production route (docs) and a local multi-process cluster."""
