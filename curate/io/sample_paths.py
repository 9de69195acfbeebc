"""``curate://samples/...`` names data shipped inside the package (the embedded quickstart crawl).

The scheme is an fsspec filesystem (registered under the ``fsspec.specs`` entry point, and again when this
module is imported), so a path keeps its ``curate://`` name everywhere it is recorded — shard list, ``source``
column, record ids, output file names — and only the file opened is the package's. Two clones or two machines
then write the same bytes for the quickstart, wherever the package is installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

PACKAGE_SCHEME = "curate://"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class PackageSamplesFileSystem(LocalFileSystem):
    """The package folder, read through ``curate://``; listings answer in ``curate://`` names."""

    protocol = ("curate",)

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, str) and path.startswith(PACKAGE_SCHEME):
            path = str(PACKAGE_ROOT / path[len(PACKAGE_SCHEME):])
        return super()._strip_protocol(path)

    def unstrip_protocol(self, name: str) -> str:
        root = str(PACKAGE_ROOT)
        if name.startswith(root + "/"):
            return PACKAGE_SCHEME + name[len(root) + 1:]
        return name


fsspec.register_implementation("curate", PackageSamplesFileSystem, clobber=True)
