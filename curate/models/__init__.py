"""Model files as checksummed assets: a local cache filled from any fsspec URL (see :mod:`curate.models.cache`)."""
