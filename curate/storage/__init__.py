"""Storage helpers shared by io/, dedup/ and pipeline/: atomic object writes that are correct on object
stores (:mod:`.atomic`), fsspec storage options that reach every worker (:mod:`.options`) and the
preflight probe that proves every node sees the output (:mod:`.probe`), and the ``counting::`` wrapper that
measures a filesystem's requests (:mod:`.request_counter`)."""

import fsspec

from curate.storage.atomic import write_bytes_atomic
from curate.storage.options import StorageOptionsError, apply_storage_options, storage_env
from curate.storage.probe import StorageProbeError, check_output_location, read_probe, write_probe

# by name, imported on first use: any process that imports curate resolves ``counting::...`` URLs
fsspec.register_implementation("counting", "curate.storage.request_counter.CountingFileSystem", clobber=True)

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
