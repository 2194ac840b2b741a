"""``python -m sdk_client.cli``: the same as the ``memory-reflect`` command."""

from sdk_client.cli.app import main

main()
