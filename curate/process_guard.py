"""Make a child process end when the process that started it ends, even by SIGKILL.

Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (the kernel kills the child when its parent exits).
Elsewhere: a daemon thread that polls the parent pid once a second. Called at the start of local
pool workers and of extraction processes, so killing ``curate run`` leaves nothing running.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` (the process that started it) is gone."""
    if sys.platform.startswith("linux") and _prctl_pdeathsig():
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)
        return
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="curate-parent-watch", daemon=True).start()


def _prctl_pdeathsig() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)
