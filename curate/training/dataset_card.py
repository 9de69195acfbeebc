"""The ``README.md`` dataset card of ``curate export hf``, in the layout FineWeb2 uses on the Hugging Face Hub.

YAML front matter: licence, languages (ISO 639-3), task, size category, and one ``configs:`` entry per
language pointing at ``data/<lang>/train-*`` (so ``datasets.load_dataset(folder, "swh_Latn")`` loads one
language). Body: per-language statistics (documents, words, bytes, tokens when counted, documents after the
rehydration weights, kept share), the sources, the licence, the steps with their settings and citations,
the pipeline file, and how to load and push the folder.
"""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

from ruamel.yaml import YAML

from curate.training.block_citations import step_citation

LICENSE_NOTES = {
    "odc-by": "Open Data Commons Attribution License (ODC-By) v1.0, as FineWeb and FineWeb2, subject to the "
              "Common Crawl Terms of Use (https://commoncrawl.org/terms-of-use)",
}
_CC_DUMP = re.compile(r"CC-MAIN-\d{4}-\d{2}")


def _size_category(rows: int) -> str:
    for limit, label in ((10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"), (10**6, "100K<n<1M"),
                         (10**7, "1M<n<10M"), (10**8, "10M<n<100M"), (10**9, "100M<n<1B")):
        if rows < limit:
            return label
    return "n>1B"


def _front_matter(name: str, license_id: str, langs: dict[str, dict[str, Any]]) -> str:
    meta = {
        "license": license_id,
        "pretty_name": name,
        "language": sorted({lang.split("_")[0] for lang in langs}),
        "task_categories": ["text-generation"],
        "size_categories": [_size_category(sum(e["rows"] for e in langs.values()))],
        "configs": [{"config_name": lang, "data_files": [{"split": "train", "path": f"data/{lang}/train-*"}]}
                    for lang in sorted(langs)],
    }
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[attr-defined]
    buffer = StringIO()
    yaml.dump(meta, buffer)
    return f"---\n{buffer.getvalue()}---\n"


def _sources(stats: dict[str, Any]) -> str:
    paths = [s.get("path", "") for s in stats.get("shards", [])]
    dumps = sorted({m.group(0) for p in paths for m in [_CC_DUMP.search(p)] if m})
    lines = [f"{len(paths):,} input file(s)."]
    if dumps:
        lines.append(f"Common Crawl dumps: {', '.join(dumps)}.")
    shown = paths[:5]
    lines += [f"- `{p}`" for p in shown] + ([f"- ... and {len(paths) - len(shown):,} more"] if len(paths) > 5 else [])
    return "\n".join(lines)


def _stats_table(langs: dict[str, dict[str, Any]], stats: dict[str, Any]) -> str:
    tokens = {}
    for entry in (stats.get("tokenize") or {}).values():  # the last tokenize run's tokens in the corpus
        tokens = {lang: e.get("tokens_in") for lang, e in entry["languages"].items()}
    head = "| language | documents | after weights | words | bytes | kept of read |" + (" tokens |" if tokens else "")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for lang in sorted(langs, key=lambda k: (-langs[k]["rows"], k)):
        e, s = langs[lang], stats.get("languages", {}).get(lang, {})
        kept = f"{100.0 * s['kept'] / s['in']:.1f}%" if s.get("in") else "-"
        row = (f"| {lang} | {e['rows']:,} | {e['weighted_rows']:,} | {int(s.get('words', 0)):,} | "
               f"{int(s.get('bytes', 0)):,} | {kept} |")
        if tokens:
            row += f" {int(tokens.get(lang) or 0):,} |"
        rows.append(row)
    return "\n".join(rows)


def _steps(stats: dict[str, Any], record: dict[str, Any] | None) -> str:
    settings = {}
    if record:
        for i, step in enumerate(record.get("pipeline", [])):
            (step_name, value), = step.items() if isinstance(step, dict) else ((step, {}),)
            settings[i] = value or {}
    lines = []
    for step in stats.get("steps", []):
        cited = step_citation(step["name"])
        shown = ", ".join(f"{k}: {v}" for k, v in (settings.get(step["index"]) or {}).items())
        lines.append(f"{step['index'] + 1}. **{step['name']}**" + (f" ({shown})" if shown else "")
                     + (f": {cited}" if cited else ""))
    return "\n".join(lines)


def dataset_card(name: str, license_id: str, langs: dict[str, dict[str, Any]], stats: dict[str, Any],
                 pipeline_text: str | None, record: dict[str, Any] | None) -> str:
    """``langs``: per language the exported ``rows``, ``weighted_rows`` and ``files``."""
    example = sorted(langs)[0] if langs else "swh_Latn"
    licence = LICENSE_NOTES.get(license_id, license_id)
    parts = [
        _front_matter(name, license_id, langs),
        f"# {name}\n",
        f"Web text in {len(langs)} language(s), made with [curate](https://pypi.org/project/curate-corpus/) "
        "following the FineWeb2 recipe (read, extract, language ID, per-language MinHash deduplication, "
        "per-language quality filters, rehydration). One configuration per language (`xxx_Scrp`: ISO 639-3 "
        "+ ISO 15924), one `train` split.\n",
        "## Statistics\n",
        "Documents as exported; *after weights* counts each document `weight` times (the rehydration copies a "
        "training run should see); words, bytes and the kept share are the run's own statistics.\n",
        _stats_table(langs, stats) + "\n",
        "## Columns\n",
        "`text`, `id`, `url`, `date`, `source` (input file), `lang`, `lang_score`, `minhash_cluster_size`, and "
        "`weight`: how many times a training run should repeat the document (FineWeb2's rehydration), plus the "
        "columns of any further step.\n",
        "## Source\n",
        _sources(stats) + "\n",
        "## Licence\n",
        f"{licence}. The text was written by the authors of the crawled pages; use of this dataset is also "
        "subject to their rights and to the crawl's terms.\n",
        "## Processing\n",
        _steps(stats, record) + "\n",
    ]
    if pipeline_text:
        parts += ["The pipeline file (`pipeline.yaml` in this folder):\n", f"```yaml\n{pipeline_text.rstrip()}\n```\n"]
    parts += [
        "## Loading\n",
        f"```python\nfrom datasets import load_dataset\nds = load_dataset(\"PATH_OR_REPO\", \"{example}\", "
        "split=\"train\")\n```\n",
        "To publish this folder: `huggingface-cli upload ORG/NAME . --repo-type dataset` from inside it, or "
        "`huggingface_hub.HfApi().upload_large_folder(repo_id=\"ORG/NAME\", folder_path=\".\", "
        "repo_type=\"dataset\")`.\n",
    ]
    return "\n".join(parts)
