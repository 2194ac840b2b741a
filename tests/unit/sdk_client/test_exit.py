"""Nothing handed over is dropped silently: at exit, unsent submissions are named."""

import subprocess
import sys
import textwrap

import pytest

from tests.server import free_port

SCRIPT = textwrap.dedent(
    """
    import sys
    from sdk_client import ReflectionExecutor, RetryPolicy

    ex = ReflectionExecutor(
        "memory_manager", "memories", url=sys.argv[1], api_key=None,
        retry=RetryPolicy(max_attempts=100, initial_delay=1.0), exit_timeout=0.5,
    )
    fut = ex.submit({"messages": [{"role": "user", "content": "I love tea."}]}, thread_id="t")
    print(fut.submission_id, flush=True)
    """
)


ASYNC_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from sdk_client import AsyncReflectionExecutor, RetryPolicy

    async def main():
        ex = AsyncReflectionExecutor(
            "memory_manager", "memories", url=sys.argv[1], api_key=None,
            retry=RetryPolicy(max_attempts=100, initial_delay=1.0), exit_timeout=0.5,
        )
        fut = ex.submit({"messages": [{"role": "user", "content": "I love tea."}]}, thread_id="t")
        print(fut.submission_id, flush=True)
        await asyncio.sleep(0)  # the sender starts, then the loop ends under it

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("script", [SCRIPT, ASYNC_SCRIPT], ids=["sync", "async"])
def test_unsent_submissions_are_named_at_exit(script):
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.run(
        [sys.executable, "-c", script, url], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    submission_id = proc.stdout.strip()
    assert submission_id
    assert "NOT accepted" in proc.stderr
    assert submission_id in proc.stderr
    assert url in proc.stderr
