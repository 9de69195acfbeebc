"""Multi-node runs on object storage: a real 2-node Ray cluster and a real S3 store, both on loopback.

Session fixtures start SeaweedFS (``weed server``, S3 gateway; :mod:`object_store`) and a Ray head plus a
second node (:mod:`ray_two_nodes`) once. The FineWeb2 pipeline (lean: resiliparse extraction, language ID,
language score, MinHash, Gopher repetition and quality) runs with ``curate run`` on the cluster writing to
``s3://``, and its Parquet is compared byte for byte with a local run of the same file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pipeline_helpers import REPO, parquet_digests, write_pipeline

pytestmark = [pytest.mark.slow, pytest.mark.ray]

WARCS = ("cc-main-2020-34-multilingual.warc.gz", "wget-crawl-sample-0000.warc.gz",
         "wget-crawl-sample-0001.warc.gz", "cc-main-2024-22-whirlwind.warc.gz")
STEPS = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {"language_score": {}},
         {"minhash": {"partitions": 3}}, {"gopher_repetition": {}}, {"gopher_quality": {}}]
BUCKET = "curate-test"


@pytest.fixture(scope="session")
def store():
    from object_store import store_with_bucket

    yield from store_with_bucket(BUCKET)


@pytest.fixture(scope="session")
def cluster():
    if not Path(sys.executable).with_name("ray").exists():
        pytest.skip(f"no ray CLI next to {sys.executable} (pip install 'curate-corpus[ray]')")
    from ray_local_head import start_local_head
    from ray_two_nodes import FAST_FAILURE_DETECTION, start_worker_node, wait_for_nodes

    head = start_local_head(num_cpus=1, extra_env=FAST_FAILURE_DETECTION)
    nodes = []
    try:
        nodes.append(start_worker_node(head, num_cpus=1))
        wait_for_nodes(head, 2)
        yield head, nodes
    finally:
        for node in nodes:
            node.stop()
        head.stop()


def _curate(env: dict[str, str], *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curate.cli", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=timeout)


def _driver_env(head, store=None, **extra: str) -> dict[str, str]:
    env = head.driver_env(PYTHONPATH=f"{REPO}{':' + str(REPO / 'tests')}", **extra)
    if store is not None:
        env.update(store.env())
    return env


def _local_run(cfg: Path, out: Path) -> dict[str, str]:
    from curate import run
    from curate.config.pipeline_config import load_pipeline
    from curate.executors.local import LocalExecutor

    executor = LocalExecutor(workers=1, progress=False)
    try:
        run(load_pipeline(str(cfg)), output=str(out), executor=executor)
    finally:
        executor.close()
    return parquet_digests(out)


def _task_nodes(head) -> dict[str, set[str]]:
    """Node ids each curate task ran on (task name -> nodes), from the head's state API."""
    from ray_two_nodes import state_api

    nodes: dict[str, set[str]] = {}
    for task in state_api(head, "tasks"):
        if str(task.get("name", "")).startswith("curate:") and task.get("node_id"):
            nodes.setdefault(task["name"], set()).add(task["node_id"])
    return nodes


@pytest.fixture(scope="session")
def local_reference(shared_data: Path, tmp_path_factory) -> tuple[list[str], dict[str, str]]:
    tmp = tmp_path_factory.mktemp("local-ref")
    inputs = [str(shared_data / "warc" / n) for n in WARCS]
    cfg = write_pipeline(tmp / "p.yaml", inputs, tmp / "out", STEPS)
    digests = _local_run(cfg, tmp / "out")
    assert digests and any(k.startswith("_removed") for k in digests)
    return inputs, digests


def test_two_node_run_on_s3_equals_local_run_byte_for_byte(cluster, store, local_reference, tmp_path: Path) -> None:
    head, _ = cluster
    inputs, local = local_reference
    # endpoint from the pipeline file, keys from the standard variables (as each node would have them)
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, "s3://unused", STEPS,
                         executor={"type": "ray", "address": head.gcs},
                         storage={"s3": {"endpoint_url": store.endpoint}})
    env = _driver_env(head, store)
    env.pop("AWS_ENDPOINT_URL")
    proc = _curate(env, "run", str(cfg), "--output", f"s3://{BUCKET}/run1")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert store.parquet_digests(f"{BUCKET}/run1") == local
    stats = json.loads(store.filesystem().cat_file(f"{BUCKET}/run1/_stats/stats.json"))
    assert stats["steps"][3]["name"] == "minhash"
    # tasks of every phase ran, and the cluster's two nodes both did work
    ran = _task_nodes(head)
    assert len(set().union(*ran.values())) == 2, ran
    names = " ".join(ran)
    for phase in ("stage0", "minhash:shard_keys_task", "minhash:partition_edges_task", "large_star", "results"):
        assert phase in names, names
    # no work folder, probe or scratch left behind on the store
    left = store.filesystem().find(f"{BUCKET}/run1")
    assert not [p for p in left if "/_work/" in p or "/_probe/" in p]


def test_worker_node_killed_mid_run_still_gives_identical_output(cluster, store, local_reference,
                                                                 tmp_path: Path) -> None:
    head, nodes = cluster
    from ray_two_nodes import alive_node_ids, running_task_nodes, start_worker_node, wait_for_nodes

    inputs, local = local_reference
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, "s3://unused", STEPS,
                         executor={"type": "ray", "address": head.gcs, "retries": 3})
    before = alive_node_ids(head)
    extra = start_worker_node(head, num_cpus=1)
    nodes.append(extra)
    wait_for_nodes(head, 3)
    (extra_id,) = alive_node_ids(head) - before
    env = _driver_env(head, store)
    proc = subprocess.Popen([sys.executable, "-m", "curate.cli", "run", str(cfg), "--output", f"s3://{BUCKET}/run2"],
                            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        # mid-run: while a curate task runs on the extra node, the node dies with everything on it
        while extra_id not in running_task_nodes(head):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
            time.sleep(0.2)
        extra.kill()
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-4000:]
    assert "left the cluster" in err  # the lost node is reported on the console
    assert store.parquet_digests(f"{BUCKET}/run2") == local
    nodes.remove(extra)
    wait_for_nodes(head, 2)


def test_node_local_and_memory_outputs_are_refused_before_work(cluster, local_reference, tmp_path: Path) -> None:
    head, _ = cluster
    inputs, _ = local_reference
    cfg = write_pipeline(tmp_path / "p.yaml", inputs, tmp_path / "out", STEPS[:2],
                         executor={"type": "ray", "address": head.gcs})
    proc = _curate(_driver_env(head), "run", str(cfg))
    assert proc.returncode != 0
    assert "local path" in proc.stderr and "2 nodes" in proc.stderr and "s3://" in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # refused before anything was written
    proc = _curate(_driver_env(head), "run", str(cfg), "--output", "memory://run")
    assert proc.returncode != 0 and "memory://" in proc.stderr and "Traceback" not in proc.stderr


def test_shared_filesystem_declared_passes_the_probe_on_every_node(cluster, local_reference, tmp_path: Path) -> None:
    head, _ = cluster
    inputs, _ = local_reference
    cfg = write_pipeline(tmp_path / "p.yaml", inputs[:1], tmp_path / "out", STEPS[:2],
                         executor={"type": "ray", "address": head.gcs, "shared_filesystem": True})
    proc = _curate(_driver_env(head), "run", str(cfg))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert pq.read_metadata(next((tmp_path / "out").rglob("part-*.parquet"))).num_rows > 0
    assert not (tmp_path / "out" / "_probe").exists()


COMPONENTS_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
import numpy as np
import pyarrow as pa
from test_components import as_documents, run_components
from curate.executors.ray_executor import RayExecutor

rng = np.random.default_rng(5)
n, shards = 4000, 3
perm = rng.permutation(n)
docs = as_documents(perm, shards)
big = docs[: n // 2]
a, b = np.r_[np.full(len(big) - 1, big[0]), docs[n // 2::2]], np.r_[big[1:], docs[n // 2 + 1::2]]
sizes = np.bincount(perm % shards, minlength=shards)
ids = {{int(d): f"{{rng.integers(0, 10**9):09d}}" for d in docs}}
executor = RayExecutor(address={address!r}, progress=False)
try:
    got, stats = run_components({url!r}, sizes, ids, a, b, 6, "first_id", executor.map)
finally:
    executor.close()
print(json.dumps({{"got": sorted([k, *v] for k, v in got.items()), "stats": stats}}))
"""


def test_components_on_two_ray_nodes_and_s3_equal_a_local_run(cluster, store, tmp_path: Path) -> None:
    """A graph whose one component is a star over half of the documents: the distributed components on
    the 2-node cluster with the work folder on S3 give exactly the local answer."""
    import numpy as np
    from test_components import as_documents, run_components, serial_map

    head, _ = cluster
    script = COMPONENTS_SCRIPT.format(tests=str(REPO / "tests"), address=head.gcs,
                                      url=f"s3://{BUCKET}/components")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=900,
                          env=_driver_env(head, store))
    assert proc.returncode == 0, proc.stderr[-4000:]
    remote = json.loads(proc.stdout.strip().splitlines()[-1])
    rng = np.random.default_rng(5)
    n, shards = 4000, 3
    perm = rng.permutation(n)
    docs = as_documents(perm, shards)
    big = docs[: n // 2]
    a = np.r_[np.full(len(big) - 1, big[0]), docs[n // 2::2]]  # a star over half the documents, then pairs
    b = np.r_[big[1:], docs[n // 2 + 1::2]]
    sizes = np.bincount(perm % shards, minlength=shards)
    ids = {int(d): f"{rng.integers(0, 10**9):09d}" for d in docs}
    got, stats = run_components(str(tmp_path / "local"), sizes, ids, a, b, 6, "first_id", serial_map)
    assert remote["got"] == sorted([k, *v] for k, v in got.items())
    assert {lang: {int(s): c for s, c in d.items()} for lang, d in remote["stats"].items()} == stats
    assert max(stats["en"]) == n // 2
