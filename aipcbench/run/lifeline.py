"""Processes that die with their parent: no cell outlives ``aipcbench run``.

A cell runs in a session of its own (so a terminal's Ctrl-C reaches only the parent, which then
stops it cleanly). The price is that nothing kills it when the parent itself is killed
(SIGKILL, a closed SSH session): it would run on until its timing window ended. On Linux the
kernel's parent-death signal closes that gap: every process aipcbench starts asks to be sent
SIGKILL when its parent exits (the fork server exits as soon as the ``aipcbench`` process that
owns it is gone, and takes its cells with it). Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent exits; exit at once if
    the parent is already gone. True where the kernel supports it."""
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent or parent == 1:  # the parent died before the request took effect
        os._exit(1)
    return True
