"""A built-in inspector page: pending work, supersession and memories at a glance.

Mounted at ``/inspector`` on the LangGraph server by :mod:`graphs.server.app`.
It is plain HTML/JS/CSS shipped in this package (no build step). The page reads
everything from the browser through the server's own REST API on the same
origin (threads, runs, history, store), sending the API key the user pastes,
so the auth handler (:mod:`graphs.server.auth`) filters what it shows exactly as for
any other client. The few Python routes here hold no data: they serve the
files and answer questions whose answer lives in the wire contract
(:mod:`sdk_client.contract`), so the page does not re-implement it.
"""

from graphs.server.inspector.app import ROUTES, STATIC_DIR, app

__all__ = ["ROUTES", "STATIC_DIR", "app"]
