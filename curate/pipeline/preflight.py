"""Preflight: before any work, prove the run can finish where it is asked to run.

1. the output location suits the executor (:func:`curate.storage.probe.check_output_location`:
   no ``memory://`` outside one process, no node-local path on a multi-node cluster);
2. every block's :meth:`~curate.blocks.base.Block.preflight` on the driver (models, packages, files) and its
   :meth:`~curate.blocks.base.Block.preflight_output` (what needs the output folder, e.g. a dedup index's lock);
3. the driver writes a probe object under OUT; one task on *every* node reads it back and runs every
   block's preflight there too, so a node without the storage, a model or a package fails the run now,
   naming the node, rather than as errored shards hours later.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from curate.blocks.base import Block
from curate.pipeline.executor import Executor
from curate.storage.probe import check_output_location, read_probe, remove_probe, write_probe


@dataclass
class NodeCheck:
    probe: dict[str, str]
    blocks: list[Block]


def node_preflight(check: NodeCheck) -> dict[str, Any]:
    """Runs on each node: the probe object is readable there and every block finds what it needs."""
    where = f"node {socket.gethostname()} (pid {os.getpid()})"
    read_probe(check.probe, where)
    for block in check.blocks:
        block.preflight()
    return {"host": socket.gethostname(), "pid": os.getpid()}


def preflight(out_dir: str, executor: Executor, blocks: list[Block], shared_filesystem: bool = False) -> int:
    """Run the checks above; returns the number of nodes checked. Raises a CurateError on failure."""
    nodes = executor.node_count()
    in_process = executor.name == "local" and getattr(executor, "workers", 0) == 1
    check_output_location(out_dir, nodes, shared_filesystem, in_process)
    for block in blocks:
        block.preflight()
        block.preflight_output(out_dir)
    probe = write_probe(out_dir)
    try:
        checked = executor.on_every_node(node_preflight, NodeCheck(probe, blocks))
    finally:
        remove_probe(out_dir)
    return len(checked)
