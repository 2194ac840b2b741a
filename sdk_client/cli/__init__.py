"""``memory-reflect``, the command line: submit, status, watch, memories, flush.

Built on click and rich; run ``memory-reflect --help`` (or ``python -m sdk_client.cli``).
"""

from sdk_client.cli.app import EXIT_CODES, cli, main

__all__ = ["EXIT_CODES", "cli", "main"]
