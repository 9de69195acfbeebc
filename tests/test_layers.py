"""Imports run one way, down the layers of docs/ARCHITECTURE.md (issue 17).

Every module of the package is parsed with ``ast``; each import, at any depth (inside functions too), becomes an
edge between two folders of ``curate/``. A folder may import only folders of a lower layer; folders of the blocks
layer import none of each other (they share code through the low layer); the low layer has no cycles. Imports
inside functions are allowed only for optional heavy third-party packages.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "curate"

# layer of each folder (a top-level module such as errors.py counts as a folder of its own); higher imports lower
FACADE = 7  # curate/__init__.py: the public API, imported by users, never by the package itself
LAYERS: dict[str, int] = {
    "cli": 6,
    "executors": 5,
    "training": 4,  # after a run: token shards and the dataset export; drives any executor through the contract
    "corpus": 4,  # after a run: the corpus a dedup index holds (every dump's output with its updates), drop
    "pipeline": 3,
    "config": 2, "stats": 2,  # below the runner; stats imports no runner
    **{name: 1 for name in ("io", "extract", "langid", "filters", "dedup", "rehydrate", "quality", "formatters",
                            "interop", "optout", "decont")},
    # the low layer: the block contract, shared text utilities, the language table, errors, storage, models.
    # tokenizers is listed in the issue with the blocks, but it holds no block: it is the word tokenizers every
    # blocks folder uses (filters, dedup, langid, quality, io's token counts), so it sits here.
    **{name: 0 for name in ("blocks", "text", "languages", "tokenizers", "errors", "storage", "models", "version",
                            "process_guard")},
    # the generic partitioned shuffle (issue 22), used by dedup and by `curate optout build` (issue 27)
    "shuffle": 0,
}
BLOCKS = 1

# third-party packages that are optional extras or heavy to import: only these may be imported inside a function
LAZY_OK = frozenset({
    "ray", "datatrove", "trafilatura", "resiliparse", "ftfy", "pycld2", "fasttext", "lingua", "kenlm",
    "sentencepiece", "tokenizers", "spacy", "jieba", "sudachipy", "kiwipiepy", "pythainlp", "khmernltk", "laonlp",
    "scipy",
    "lightgbm",  # the dev extra's: trains the block model's tree stages in experiments (block_training.fit_trees)
    "aiobotocore", "botocore",  # the s3 extra's: the storage: options' keys (storage/option_keys.py)
})
# (module, imported module) pairs kept inside a function, each with its reason
LAZY_INTERNAL = {
    # WordTokenizer.__reduce__ pickles a tokenizer as its spec; the rebuilding function lives in the package's
    # __init__, which imports base.py: a cycle inside one folder, not between folders
    ("curate.tokenizers.base", "curate.tokenizers"),
    # the HTTP session class subclasses aiobotocore's: its module imports the optional s3 extra at its top
    ("curate.storage.s3_waits", "curate.storage.s3_session"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _folder(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "curate"


def _imports(path: Path, module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) of every import in ``path``, the module ``module``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function.update(id(sub) for sub in ast.walk(node) if sub is not node)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names = [".".join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module or ""]
        else:
            continue
        found.extend((name, node.lineno, id(node) in in_function) for name in names)
    return found


def _graph() -> tuple[dict[tuple[str, str], list[str]], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    lazy: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        where = path.relative_to(PACKAGE.parent)
        for name, line, inside in _imports(path, module):
            internal = name == "curate" or name.startswith("curate.")
            if inside and (module, name) not in LAZY_INTERNAL and (internal or name.split(".")[0] not in LAZY_OK):
                lazy.append(f"{where}:{line} imports {name} inside a function")
            if internal and _folder(module) != _folder(name):
                edges[(_folder(module), _folder(name))].append(f"{where}:{line} -> {name}")
    return edges, lazy


def test_every_folder_has_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    assert folders | modules <= set(LAYERS), f"give these a layer in tests/test_layers.py: {(folders | modules) - set(LAYERS)}"


def test_imports_run_down_the_layers():
    edges, _ = _graph()
    wrong = []
    for (src, dst), where in sorted(edges.items()):
        src_layer = FACADE if src == "curate" else LAYERS[src]
        dst_layer = FACADE if dst == "curate" else LAYERS[dst]
        if dst_layer > src_layer:
            wrong.append(f"upward {src} -> {dst}: {where}")
        elif dst_layer == src_layer == BLOCKS:
            wrong.append(f"blocks folder {src} imports blocks folder {dst} (share through the low layer): {where}")
        elif dst_layer == src_layer and dst_layer != LAYERS["blocks"]:
            wrong.append(f"sideways {src} -> {dst}: {where}")
    assert not wrong, "\n".join(wrong)


def test_no_folder_cycles():
    edges, _ = _graph()
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst in edges:
        graph[src].add(dst)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(f"{a} <-> {b}: {edges[(a, b)][0]}" for a, b in edges if reaches(b, a, {b}))
    assert not cycles, "\n".join(cycles)


def test_imports_inside_functions_only_for_optional_heavy_packages():
    _, lazy = _graph()
    assert not lazy, "move these to the top of the module (or name the package in LAZY_OK with a reason):\n" + (
        "\n".join(lazy))


def test_every_import_inside_a_function_says_why():
    # a one-line reason on the import, the line above it, or the first import of its group
    silent = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for name, line, inside in _imports(path, _module_name(path)):
            if not inside or name.startswith("curate"):
                continue
            above = line - 2
            while above >= 0 and lines[above].strip().startswith(("from ", "import ")) and "#" not in lines[above]:
                above -= 1
            context = [lines[line - 1], lines[above] if above >= 0 else ""]
            if not any("#" in text for text in context):
                silent.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name} with no reason")
    assert not silent, "\n".join(silent)


def test_no_private_modules_of_other_packages():
    """Public APIs only: a private module (``ray._raylet``, ``ray._private...``) changes without notice."""
    # re._parser: the only parser of Python's regex syntax; the spaCy affix analysis gives up on any surprise
    allowed = {"re._constants", "re._parser"}
    private = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for name, line, _inside in _imports(path, _module_name(path)):
            parts = name.split(".")
            if parts[0] != "curate" and name not in allowed and any(part.startswith("_") and part != "__future__" for part in parts):
                private.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not private, "\n".join(private)


def test_the_checker_sees_relative_and_function_level_imports(tmp_path: Path):
    # the checker itself: an import nested in a function, and a relative one, are both found and resolved
    probe = tmp_path / "probe.py"
    probe.write_text("from . import reader_base\n\ndef f():\n    if True:\n        from ..cli.main import main\n"
                     "    return main\n", encoding="utf-8")
    found = _imports(probe, "curate.io.probe")
    assert ("curate.io", 1, False) in found  # `from . import x`: the package, enough to place it
    assert ("curate.cli.main", 5, True) in found
