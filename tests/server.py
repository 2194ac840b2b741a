"""Test access to the dev-server launcher (it lives in ``graphs.devserver``)."""

from graphs.devserver import ROOT, Server, free_port, run_server, wait_until

__all__ = ["ROOT", "Server", "free_port", "run_server", "wait_until"]
