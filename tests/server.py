"""Test access to the dev-server launcher (it lives in ``deploy.devserver``)."""

from deploy.devserver import ROOT, Server, free_port, run_server, wait_until

__all__ = [
    "FAST_REDELIVERY",
    "ISOLATED_ENV",
    "ROOT",
    "Server",
    "free_port",
    "run_server",
    "wait_until",
]

# Variables that would change what the server or client does; tests set what they need.
ISOLATED_ENV = [
    "MEMORY_MODEL",
    "MEMORY_NAMESPACE",
    "MEMORY_INSTRUCTIONS",
    "MEMORY_SCHEMAS",
    "MEMORY_ENABLE_INSERTS",
    "MEMORY_ENABLE_DELETES",
    "MEMORY_QUERY_LIMIT",
    "MEMORY_DEDUP_THRESHOLD",
    "MEMORY_EMBEDDINGS",
    "MEMORY_EMBEDDING_THREADS",
    "MEMORY_EMBEDDING_RUNTIME",
    "LANGGRAPH_API_URL",
    "LANGGRAPH_API_KEY",
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "MEMORY_THREAD_TTL_MINUTES",
    "MEMORY_SWEEP_INTERVAL_SECONDS",
    "MEMORY_API_KEYS",
    "MEMORY_MODEL_TIMEOUT",
    "MEMORY_STUDIO_ACCESS",
    "MEMORY_MAX_BODY_BYTES",
    "MEMORY_REDELIVERY_ATTEMPTS",
    "MEMORY_REDELIVERY_BACKOFF_SECONDS",
    "MEMORY_REDELIVERY_MAX_BACKOFF_SECONDS",
    "MEMORY_REDELIVERY_GRACE_SECONDS",
    "MEMORY_REDELIVERY_INTERVAL_SECONDS",
]

FAST_REDELIVERY = {
    "MEMORY_REDELIVERY_ATTEMPTS": "3",
    "MEMORY_REDELIVERY_BACKOFF_SECONDS": "1",
    "MEMORY_REDELIVERY_MAX_BACKOFF_SECONDS": "2",
    "MEMORY_REDELIVERY_GRACE_SECONDS": "1",
    "MEMORY_REDELIVERY_INTERVAL_SECONDS": "0.5",
}
"""The server's redelivery schedule compressed from minutes to seconds (3 attempts)."""
