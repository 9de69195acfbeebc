"""Storage helpers shared by io/, dedup/ and pipeline/: atomic object writes that are correct on object
stores (:mod:`.atomic`), fsspec storage options that reach every worker (:mod:`.options`) and the
preflight probe that proves every node sees the output (:mod:`.probe`)."""

from curate.storage.atomic import write_bytes_atomic
from curate.storage.options import StorageOptionsError, apply_storage_options, storage_env
from curate.storage.probe import StorageProbeError, check_output_location, read_probe, write_probe

__all__ = [
    "StorageOptionsError",
    "StorageProbeError",
    "apply_storage_options",
    "check_output_location",
    "read_probe",
    "storage_env",
    "write_bytes_atomic",
    "write_probe",
]
