"""Redirects of robots.txt captures, followed across partitions of ``curate optout build``.

A robots.txt that redirects takes its answer from the newest capture of the URL it redirects to (RFC 9309
section 2.3.1.2: follow at least five hops), and that URL's captures live in the partition of *its* host.
So a redirect is a join, done in rounds: a *hop* ``(origin, origin_host, url, hops)`` goes to the partition of
``url``'s host, where the round task looks up the newest capture of ``url`` (:func:`.newest_by_url`). An
answer (anything but another redirect) goes back to the origin's partition through the ``answers-R``
shuffle; another redirect is followed at once while its target stays in the partition (http -> https on a
host, ``www.`` or not: one partition, :mod:`.host_partition`), else sent on as a hop of the next round.
A URL without a capture, a redirect without a target and the sixth hop end a chain unanswered, as before.
Rounds run while hops remain (one on ordinary crawls); each task reads one partition of each shuffle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.optout.host_partition import host_partitions
from curate.optout.robots_table import (
    ANSWER_FIELDS,
    CAPTURE_SCHEMA,
    MAX_REDIRECTS,
    TABLE_SCHEMA,
    newest_by_url,
)
from curate.optout.url_hosts import url_hosts
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShuffleRef
from curate.shuffle.workdir import Workdir

HOP_SCHEMA = pa.schema([("origin", pa.int64()), ("origin_host", pa.string()), ("url", pa.string()),
                        ("hops", pa.int8())])
ANSWER_SCHEMA = pa.schema([("origin", pa.int64()), ("origin_host", pa.string()), ("url", pa.string()),
                           *(TABLE_SCHEMA.field(name) for name in ANSWER_FIELDS)])


def hops_folder(round_: int) -> str:
    return f"shuffles/hops-{round_}"


def answers_folder(round_: int) -> str:
    return f"shuffles/answers-{round_}"


def first_hops(captures: pa.Table, robots: np.ndarray) -> pa.Table:
    """The hops of round 1: every redirect of a ``/robots.txt`` capture (the others never decide for a host)."""
    wanted = pc.and_(pc.equal(captures.column("status"), "redirect"), pc.is_valid(captures.column("location")))
    wanted = pc.and_(pc.fill_null(wanted, False), pa.array(robots))
    sel = captures.filter(wanted)
    return pa.table({"origin": sel.column("order"), "origin_host": sel.column("host"),
                     "url": sel.column("location"), "hops": pa.array(np.ones(sel.num_rows, np.int8))},
                    schema=HOP_SCHEMA)


def hop_partitions(hops: pa.Table, partitions: int) -> tuple[pa.Table, np.ndarray]:
    """Hops with a host, and the partition of each (a target URL without a host is no capture's)."""
    hosts = url_hosts(hops.column("url"))
    hops = hops.filter(pc.is_valid(hosts))
    return hops, host_partitions(pc.drop_null(hosts).to_pylist(), partitions)


def follow(pending: pa.Table, captures: pa.Table, partition: int, partitions: int) -> tuple[pa.Table, pa.Table]:
    """This partition's step of the chains: (answers :data:`ANSWER_SCHEMA`, hops for other partitions)."""
    answers: list[pa.Table] = []
    onward: list[pa.Table] = []
    newest = newest_by_url(captures) if pending.num_rows else CAPTURE_SCHEMA.empty_table()
    while pending.num_rows:
        found = pc.index_in(pending.column("url"), value_set=newest.column("url").combine_chunks())
        pending = pending.filter(pc.is_valid(found))  # no capture of the URL: the chain ends unanswered
        rows = newest.take(pc.drop_null(found))
        redirect = pc.equal(rows.column("status"), "redirect").to_numpy(zero_copy_only=False)
        done = ~redirect
        if done.any():
            sel = pa.array(done)
            answers.append(pa.table({"origin": pending.column("origin").filter(sel),
                                     "origin_host": pending.column("origin_host").filter(sel),
                                     "url": rows.column("url").filter(sel),
                                     **{name: rows.column(name).filter(sel) for name in ANSWER_FIELDS}},
                                    schema=ANSWER_SCHEMA))
        hops = pending.column("hops").to_numpy()
        go_on = redirect & (hops < MAX_REDIRECTS) & pc.is_valid(rows.column("location")).to_numpy(
            zero_copy_only=False)
        sel = pa.array(go_on)
        step = pa.table({"origin": pending.column("origin").filter(sel),
                         "origin_host": pending.column("origin_host").filter(sel),
                         "url": rows.column("location").filter(sel),
                         "hops": pa.array((hops[go_on] + 1).astype(np.int8))}, schema=HOP_SCHEMA)
        step, dest = hop_partitions(step, partitions)
        here = dest == partition
        onward.append(step.filter(pa.array(~here)))
        pending = step.filter(pa.array(here))
    return (pa.concat_tables(answers) if answers else ANSWER_SCHEMA.empty_table(),
            pa.concat_tables(onward) if onward else HOP_SCHEMA.empty_table())


@dataclass(frozen=True)
class RoundTask:
    """Round ``round`` of the redirects, in partition ``partition``."""

    workdir: str
    round: int
    partition: int
    partitions: int
    captures: ShuffleRef
    hops: ShuffleRef

    @property
    def kind(self) -> str:
        return f"optout:redirects-{self.round}"


def round_task(task: RoundTask) -> dict[str, Any]:
    """Follow the hops that came to this partition; write this writer's runs of ``answers-R`` and
    ``hops-(R+1)``. Returns (and leaves as its marker) their bytes and rows."""
    wd = Workdir(task.workdir)
    marker = ("markers", f"round{task.round}-{task.partition:05d}.json")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    pending = shuffle.read(wd, task.hops, task.partition, HOP_SCHEMA)
    captures = (shuffle.read(wd, task.captures, task.partition, CAPTURE_SCHEMA) if pending.num_rows
                else CAPTURE_SCHEMA.empty_table())
    answers, onward = follow(pending, captures, task.partition, task.partitions)
    back = host_partitions(answers.column("origin_host").to_pylist(), task.partitions)
    result = {"answers_bytes": shuffle.write(wd, answers_folder(task.round), task.partition, answers, back,
                                             task.partitions),
              "answers": answers.num_rows, "hops": onward.num_rows, "hops_bytes": 0}
    if task.round < MAX_REDIRECTS:
        onward, dest = hop_partitions(onward, task.partitions)
        result["hops_bytes"] = shuffle.write(wd, hops_folder(task.round + 1), task.partition, onward, dest,
                                             task.partitions)
    wd.write_json(result, *marker)
    return result
