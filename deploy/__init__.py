"""Running the server outside production.

``devserver``: ``langgraph dev`` on a free port (demo, tests, bench); ``local_cluster``:
Postgres + Redis + several server processes; the production route is in README.md here.
"""
