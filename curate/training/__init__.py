"""After a run: token shards for a training run (``curate tokenize``).

A finished output folder (``OUT/<lang>/part-*.parquet`` with ``weight``) becomes token shards in one of three
formats (Megatron's indexed dataset, datatrove's ``.ds`` files, plain numpy arrays), with a per-language token
mixture applied through the rehydration weights, a seeded shuffle that does not depend on the number of
workers, and a manifest of what went where. :mod:`curate.training.tokenize_run` drives the passes on any
executor; each pass is one small module here.
"""
