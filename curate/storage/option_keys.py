"""The keys a ``storage:`` entry may hold, so a typo in one is found before any work.

``storage: {s3: {endpont_url: ...}}`` would otherwise reach s3fs, which passes unknown keys on to the botocore
session, and the run would stop with a traceback at its first object. The keys come from the filesystem class
itself (the named parameters of its ``__init__``, plus fsspec's own instance options); for ``s3`` also from what
s3fs hands its unnamed keys to (aiobotocore's session) and the nested mappings it builds botocore objects from
(``config_kwargs`` -> ``botocore.config.Config``, its ``retries``, ``client_kwargs`` -> ``create_client``).
A class that takes ``**kwargs`` elsewhere is *open*: only keys close to a known one are reported there.
"""

from __future__ import annotations

import inspect
from typing import Any

import fsspec

# instance options every fsspec filesystem takes (fsspec.spec.AbstractFileSystem, its listings cache)
FSSPEC_OPTIONS = ("skip_instance_cache", "use_listings_cache", "listings_expiry_time", "max_paths", "asynchronous",
                  "loop", "batch_size")
S3_PROTOCOLS = ("s3", "s3a")
RETRIES_KEYS = ("max_attempts", "total_max_attempts", "mode")  # botocore.config.Config(retries=...)


def _named(func: Any) -> tuple[list[str], bool]:
    """Named parameters of ``func`` and whether it also takes ``**kwargs``."""
    params = [p for p in inspect.signature(func).parameters.values() if p.name != "self"]
    named = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return named, any(p.kind == p.VAR_KEYWORD for p in params)


def option_keys(protocol: str) -> tuple[list[str], bool]:
    """The keys of ``storage.<protocol>`` and whether the list is closed (every other key is a mistake)."""
    cls = fsspec.get_filesystem_class(protocol)
    named, open_ended = _named(cls.__init__)
    keys = list(dict.fromkeys([*named, *FSSPEC_OPTIONS]))
    if protocol in S3_PROTOCOLS:  # s3fs gives its other keys to aiobotocore's session (s3 extra, imported lazily)
        from aiobotocore.session import AioSession

        session, _ = _named(AioSession.__init__)
        return list(dict.fromkeys([*keys, *session])), True
    return keys, not open_ended


def nested_option_keys(protocol: str, path: tuple[str, ...]) -> list[str] | None:
    """The keys of a mapping nested in ``storage.<protocol>`` (``("config_kwargs",)``, ...); None when free-form."""
    if protocol not in S3_PROTOCOLS:
        return None
    if path == ("config_kwargs",):  # s3fs builds an AioConfig of them (s3 extra, imported when checked)
        from aiobotocore.config import AioConfig
        from botocore.config import Config

        aio, _ = _named(AioConfig.__init__)
        return [*Config.OPTION_DEFAULTS, *aio]
    if path == ("config_kwargs", "retries"):
        return list(RETRIES_KEYS)
    if path == ("client_kwargs",):  # s3fs passes them to create_client (s3 extra, imported when checked)
        from aiobotocore.session import AioSession

        named, _ = _named(AioSession.create_client)
        return [k for k in named if k != "service_name"]
    return None
