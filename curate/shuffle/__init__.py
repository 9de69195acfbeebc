"""The generic partitioned shuffle on any fsspec storage (issue 22), shared by multi-task commands and steps.

:mod:`.partitioned_shuffle` (runs -> merged group files -> one index; write / merge / read), :mod:`.partfile`
(its two file formats: partition-sorted runs and blocks), :mod:`.workdir` (a scratch folder: atomic files,
markers). Used by dedup (keys, edges, components) and by ``curate optout build`` (captures by host).
"""
