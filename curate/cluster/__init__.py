"""Running curate on a Ray cluster: connection helpers shared by the Ray executor, and the Ray Jobs
API commands (``curate submit / status / logs / stop``)."""

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
