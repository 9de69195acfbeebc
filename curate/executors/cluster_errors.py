"""Errors of the cluster layer; every message says what was tried and what to do about it."""

from __future__ import annotations

from curate.errors import CurateError


class ClusterError(CurateError, RuntimeError):
    """Base of every Ray cluster problem a user can act on (the CLI prints it without a traceback)."""


class ClusterUnreachableError(ClusterError):
    """Nothing answers at the given address, or Ray refused the connection."""


class ClusterAuthError(ClusterError):
    """The cluster uses token authentication and no (or a wrong) token was sent."""


class JobNotFoundError(ClusterError):
    """The Jobs API does not know this job id."""


class WorkerEnvironmentError(ClusterError):
    """Ray workers cannot import curate (the cluster runs another Python environment)."""


class RayTaskFailedError(ClusterError):
    """A task failed for a system reason (worker or node died, out of memory) and its retries are spent."""


class NodePreflightError(ClusterError):
    """A node failed the preflight (cannot read the output, lacks a model or package a block needs)."""
