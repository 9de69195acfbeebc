"""Running curate on a Ray cluster: the connection helpers (addresses, auth, errors) of the Ray executor.

The Ray Jobs API commands (``curate submit / status / logs / stop``) are in ``curate/cli/``."""

from curate.cluster.errors import (
    ClusterAuthError,
    ClusterError,
    ClusterUnreachableError,
    JobNotFoundError,
    RayTaskFailedError,
    WorkerEnvironmentError,
)

__all__ = [
    "ClusterAuthError",
    "ClusterError",
    "ClusterUnreachableError",
    "JobNotFoundError",
    "RayTaskFailedError",
    "WorkerEnvironmentError",
]
