"""``curate export hf OUT DEST``: a finished run as a Hugging Face dataset folder (FineWeb2's layout).

Wiring (``curate/cli/main.py``, inside ``build_parser``): ``register_export_command(sub)``.
"""

from __future__ import annotations

import argparse
from typing import Any

from curate.executors.factory import build_executor
from curate.training.hf_export import export_hf


def _cmd_export_hf(args: argparse.Namespace) -> int:
    executor = build_executor(args.executor, args.workers, args.address)
    try:
        result = export_hf(args.corpus, args.dest, executor, name=args.name, license_id=args.license,
                           max_file_bytes=args.max_file_bytes)
    finally:
        executor.close()
    for lang, e in sorted(result.languages.items()):
        print(f"{lang:<10} {e['rows']:>10,} rows  {e['weighted_rows']:>10,} after weights  {e['files']} file(s)")
    print(f"\n{result.files} Parquet file(s), README.md (dataset card) and pipeline.yaml in {result.dest}; load one "
          f"language with datasets.load_dataset({result.dest!r}, LANG); publish with "
          "`huggingface-cli upload ORG/NAME DEST --repo-type dataset`")
    return 0


def register_export_command(sub: Any) -> None:
    export = sub.add_parser("export", help="publishable copies of a finished run")
    kinds = export.add_subparsers(dest="kind", required=True)
    hf = kinds.add_parser("hf", help="Hugging Face dataset folder: data/<lang>/train-*.parquet + dataset card")
    hf.add_argument("corpus", metavar="OUT", help="output folder or URL of a finished `curate run`")
    hf.add_argument("dest", metavar="DEST", help="folder or URL to write the dataset to")
    hf.add_argument("--name", help="dataset name in the card (default: the pipeline's name)")
    hf.add_argument("--license", default="odc-by", help="licence id of the card (default odc-by, as FineWeb2)")
    hf.add_argument("--max-file-bytes", type=int, default=500 * 2**20,
                    help="corpus Parquet bytes per exported file, about (default 500 MiB)")
    hf.add_argument("--workers", "-w", type=int, help="parallel file tasks (default: CPUs)")
    hf.add_argument("--executor", choices=["local", "ray"], default="local")
    hf.add_argument("--address", help="Ray cluster address (with --executor ray)")
    hf.set_defaults(func=_cmd_export_hf)
