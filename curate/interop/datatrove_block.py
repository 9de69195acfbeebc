"""Run a datatrove filter, formatter or enricher as a curate block.

YAML::

    - datatrove:
        step: datatrove.pipeline.filters.GopherQualityFilter   # or GopherQualityFilter, or mypkg.filters:MyFilter
        args: {min_doc_words: 50, max_doc_words: 100000}        # constructor arguments, the same for every language
        per_language:                                           # constructor argument -> language-table field
          stop_words: {field: stopwords, if_empty: {min_stop_words: null}}
          min_avg_word_length: min_avg_word_length
          max_avg_word_length: max_avg_word_length
          max_non_alpha_words_ratio: max_non_alpha_words_ratio
          language: datatrove_language
        column_types: {my_score: float64}                       # optional: types of metadata keys the step adds
        reason: null                                            # optional: drop reason when datatrove gives none

Python (``import curate``)::

    from datatrove.pipeline.filters import GopherQualityFilter
    block = curate.DatatroveStep(GopherQualityFilter, per_language={"stop_words": "stopwords"})
    block = curate.DatatroveStep(GopherQualityFilter(min_doc_words=20))   # a ready instance, one for all languages

How rows and documents map (one batch at a time):

* ``text`` -> ``Document.text``, ``id`` -> ``Document.id``; every other column except ``html`` goes into
  ``Document.metadata`` under its own name (``url``, ``date``, ``lang``, ``minhash_cluster_size``, ...), plus
  datatrove's names for the language: ``language`` (the ``xxx_Scrp`` key from ``lang``) and ``language_score``.
* Back: a changed text or metadata value updates its column; a metadata key the step adds becomes a new column
  whose Arrow type is fixed the first time it has a value (or by ``column_types``), so every batch of a run has
  the same schema. A later value that does not fit that type makes its row an error (counted, routed to
  ``_removed``) rather than being converted with a loss. ``language``/``language_score`` come back as columns only
  when the step changed them (e.g. datatrove's ``LanguageFilter``); ``lang`` stays curate's.
* Filters (``BaseFilter`` subclasses): ``filter()`` / ``filter_batch()`` decide per document; ``(False, reason)``
  becomes curate's drop reason (the runner shows ``datatrove:<reason>``). A plain ``False`` gets ``reason`` or the
  class name in snake case (``language_filter``). Other steps run through their ``run()``; a document they do not
  yield back is removed with that default reason. An exception on one document makes that row an error; the rest
  of the batch goes on.
* ``per_language`` builds one datatrove instance per distinct set of per-language values (so languages sharing
  thresholds share an instance) and routes each row by its ``lang``. A value is a field of
  :class:`curate.languages.language_config.LanguageConfig` (``stopwords``, ``dup_line_frac``, ``top_n_grams``, ...,
  ``key``), or ``datatrove_language``: the language key when datatrove has a word tokenizer for it, else its
  proxy, else datatrove's whitespace tokenizer. The mapping form ``{field: ..., if_empty: {...}}`` also sets the
  given arguments when the value is empty: the language table leaves ``stopwords`` empty for languages FineWeb2
  has no config for, meaning "rule off", while datatrove would drop every document for lack of stop words.

A metadata key named like an existing column (``text``, ``html``) comes back as ``metadata_<key>``.

Readers, writers, statistics and dedup stages do not fit a row-preserving block and are refused with the curate
equivalent to use (inputs, Parquet outputs, ``_stats``, ``minhash`` / ``exact_dedup``; see the README, "Coming from datatrove").
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from curate.blocks.base import Block, BlockContext, BlockOutput
from curate.blocks.column_types import ColumnTypes, misfit_message, parse_type
from curate.blocks.columns import HTML, ID, LANG, LANG_SCORE, TEXT, UNKNOWN_LANG
from curate.errors import CurateError
from curate.languages.language_config import LanguageConfig
from curate.languages.table import load_language_table

INSTALL_HINT = "pip install 'curate-corpus[datatrove]'"
# modules searched for a bare class name (``step: GopherQualityFilter``)
SHORT_NAME_MODULES = ("datatrove.pipeline.filters", "datatrove.pipeline.formatters", "datatrove.pipeline.extractors")
DATATROVE_LANGUAGE = "datatrove_language"  # virtual language-table field, see module docstring
LANGUAGE, LANGUAGE_SCORE = "language", "language_score"  # datatrove's metadata names
_LANGUAGE_FIELDS = frozenset(f.name for f in dataclasses.fields(LanguageConfig)) | {DATATROVE_LANGUAGE}


class DatatroveMissingError(CurateError, ImportError):
    """datatrove is not installed."""


class DatatroveStepError(CurateError, ValueError):
    """The block's settings name no usable datatrove step, or arguments it does not take."""


def require_datatrove(what: str = "this step") -> None:
    try:
        import datatrove  # noqa: F401
    except ImportError as exc:
        raise DatatroveMissingError(
            f"{what} needs the optional package datatrove ({exc}); install it with: {INSTALL_HINT}"
        ) from exc


def resolve_step(spec: str) -> type:
    """A datatrove step class from ``pkg.mod.Class``, ``pkg.mod:Class`` or a bare datatrove class name."""
    if ":" in spec:
        candidates = [tuple(spec.split(":", 1))]
    elif "." in spec:
        candidates = [tuple(spec.rsplit(".", 1))]
    else:
        candidates = [(module, spec) for module in SHORT_NAME_MODULES]
    errors = []
    for module_name, attr in candidates:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            errors.append(f"importing {module_name} failed: {exc}")
            continue
        obj = getattr(module, attr, None)
        if obj is not None:
            return obj
        errors.append(f"{module_name} has no {attr!r}")
    raise DatatroveStepError(f"datatrove step {spec!r} not found ({'; '.join(errors)}); name it by import path, "
                             "e.g. datatrove.pipeline.filters.GopherQualityFilter or mypkg.filters:MyFilter")


def default_reason(cls: type) -> str:
    """``GopherQualityFilter`` -> ``gopher_quality_filter``: the drop reason when datatrove gives none."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls.__name__).lower()


@dataclasses.dataclass(frozen=True)
class _PerLanguageArg:
    field: str
    if_empty: dict[str, Any]


def _parse_per_language(per_language: dict[str, Any]) -> dict[str, _PerLanguageArg]:
    parsed = {}
    for arg, spec in per_language.items():
        if isinstance(spec, str):
            spec = {"field": spec}
        if not isinstance(spec, dict) or set(spec) - {"field", "if_empty"} or "field" not in spec:
            raise DatatroveStepError(f"per_language.{arg}: give a language-table field name, or "
                                     f"{{field: NAME, if_empty: {{ARG: VALUE}}}}; got {spec!r}")
        if spec["field"] not in _LANGUAGE_FIELDS:
            raise DatatroveStepError(f"per_language.{arg}: unknown language-table field {spec['field']!r}; "
                                     f"allowed: {', '.join(sorted(_LANGUAGE_FIELDS))}")
        parsed[arg] = _PerLanguageArg(spec["field"], dict(spec.get("if_empty") or {}))
    return parsed


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (tuple, list, set, frozenset, str, dict)) and len(value) == 0)


def _name_of(obj: Any) -> str:
    cls = obj if inspect.isclass(obj) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


class DatatroveStep(Block):
    """A datatrove ``PipelineStep`` (filter, formatter, enricher) over curate batches; see the module docstring."""

    name: ClassVar[str] = "datatrove"

    def __init__(
        self,
        step: Any,
        args: dict[str, Any] | None = None,
        per_language: dict[str, str | dict[str, Any]] | None = None,
        column_types: dict[str, str] | None = None,
        reason: str | None = None,
    ) -> None:
        require_datatrove(f"the datatrove block ({step!r})")
        # optional extra (curate-corpus[datatrove]): imported when a datatrove step is built
        from datatrove.pipeline.base import PipelineStep
        from datatrove.pipeline.filters.base_filter import BaseFilter

        self.args = dict(args or {})
        self.per_language = dict(per_language or {})
        self.column_types = dict(column_types or {})
        self._specs = _parse_per_language(self.per_language)
        self._fixed: Any = None  # a ready instance given from Python: used for every language
        if isinstance(step, str):
            cls = resolve_step(step)
        elif inspect.isclass(step):
            cls = step
        else:
            cls, self._fixed = type(step), step
            if self.args or self.per_language:
                raise DatatroveStepError(
                    "DatatroveStep got a ready datatrove instance together with args/per_language; "
                    "pass the class instead so one instance per language can be built")
        if not (inspect.isclass(cls) and issubclass(cls, PipelineStep)):
            raise DatatroveStepError(f"{_name_of(cls)} is not a datatrove PipelineStep (filter, formatter, enricher)")
        why = _unsupported(cls)
        if why:
            raise DatatroveStepError(f"{_name_of(cls)} cannot run as a curate block: {why}")
        _check_dependencies(cls)
        if self._fixed is None:
            try:  # a typo in args fails at plan time, not on the first batch
                inspect.signature(cls).bind(**{**self.args, **{a: None for a in self._specs}})
            except TypeError as exc:
                raise DatatroveStepError(f"bad args for {_name_of(cls)}: {exc}") from None
        self.step = step if isinstance(step, str) else _name_of(step)
        self.reason = reason
        self._cls = cls
        self._is_filter = issubclass(cls, BaseFilter) and cls.run is BaseFilter.run
        self.kind = "filter" if issubclass(cls, BaseFilter) else "transform"  # type: ignore[misc]  # plan display
        self._default_reason = reason or default_reason(cls)
        self._types = ColumnTypes({k: parse_type(v, k) for k, v in self.column_types.items()})
        self._by_lang: dict[str, Any] = {}
        self._by_args: dict[str, Any] = {}

    def describe(self) -> dict[str, Any]:
        return {"step": self.step, "args": self.args, "per_language": self.per_language,
                "column_types": self.column_types, "reason": self.reason}

    def __getstate__(self) -> dict[str, Any]:
        # instances built from a class are rebuilt lazily in each worker; a user's ready instance travels as is
        state = dict(self.__dict__)
        state["_by_lang"], state["_by_args"] = {}, {}
        return state

    # --- which datatrove instance handles a language -------------------------------------------------------

    def instance_for(self, lang: str, ctx: BlockContext | None = None) -> Any:
        if self._fixed is not None:
            return self._fixed
        if not self._specs:
            lang = ""
        found = self._by_lang.get(lang)
        if found is not None:
            return found
        kwargs = dict(self.args)
        shown = dict(self.args)  # hashable-ish description of the arguments, the instance cache key
        if self._specs:
            languages = ctx.languages if ctx is not None and ctx.languages is not None else None
            if languages is None:
                languages = load_language_table()
            config = languages.get(lang)
            for arg, spec in self._specs.items():
                if spec.field == DATATROVE_LANGUAGE:
                    value, label = _datatrove_language(config)
                else:
                    value = getattr(config, spec.field)
                    label = value
                if _is_empty(value) and spec.if_empty:
                    kwargs.update(spec.if_empty)
                    shown.update(spec.if_empty)
                kwargs[arg], shown[arg] = value, label
        key = repr(sorted(shown.items(), key=lambda kv: kv[0]))
        instance = self._by_args.get(key)
        if instance is None:
            instance = self._by_args[key] = self._cls(**kwargs)
        self._by_lang[lang] = instance
        return instance

    # --- the block ------------------------------------------------------------------------------------------

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        # optional extra (curate-corpus[datatrove]): imported when a datatrove step is built
        from datatrove.data import Document

        n = table.num_rows
        if n == 0:
            return BlockOutput(table=table)
        names = table.column_names
        texts = table.column(TEXT).to_pylist()
        raw_ids = table.column(ID).to_pylist() if ID in names else [None] * n
        ids = [str(v) if v is not None else f"row-{i}" for i, v in enumerate(raw_ids)]
        meta_names = [c for c in names if c not in (TEXT, ID, HTML)]
        meta = {c: table.column(c).to_pylist() for c in meta_names}
        langs = [v or UNKNOWN_LANG for v in meta[LANG]] if LANG in meta else [UNKNOWN_LANG] * n
        aliases: dict[str, list[Any]] = {}
        if LANG in meta and LANGUAGE not in meta:
            aliases[LANGUAGE] = langs
        if LANG_SCORE in meta and LANGUAGE_SCORE not in meta:
            aliases[LANGUAGE_SCORE] = meta[LANG_SCORE]

        def make_doc(i: int) -> Any:
            metadata = {c: meta[c][i] for c in meta_names}
            for alias, values in aliases.items():
                metadata[alias] = values[i]
            return Document(text=texts[i] if texts[i] is not None else "", id=ids[i], metadata=metadata)

        docs: list[Any] = [make_doc(i) for i in range(n)]
        keep = np.ones(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        errors: list[str | None] = [None] * n
        groups: dict[int, tuple[Any, list[int]]] = {}
        for i, lang in enumerate(langs):
            instance = self.instance_for(lang, ctx)
            groups.setdefault(id(instance), (instance, []))[1].append(i)
        for instance, rows in groups.values():
            run = self._filter_rows if self._is_filter else self._run_rows
            run(instance, rows, docs, make_doc, keep, reasons, errors)

        out = self._back_to_table(table, docs, texts, meta_names, aliases, errors)
        for i in range(n):
            if errors[i] is not None:
                keep[i], reasons[i] = False, None
        return BlockOutput(table=out, keep=keep, reasons=reasons,
                           errors=errors if any(e is not None for e in errors) else None)

    def _filter_rows(self, step: Any, rows: list[int], docs: list[Any], make_doc: Callable[[int], Any],
                     keep: np.ndarray, reasons: list[str | None], errors: list[str | None]) -> None:
        """BaseFilter: ask ``filter``/``filter_batch`` directly, so the reason of each drop is known."""
        size = max(1, int(getattr(step, "batch_size", 1) or 1))
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            results: list[Any] | None = None
            if size > 1:
                try:
                    results = list(step.filter_batch([docs[i] for i in chunk]))
                except Exception:  # find the document at fault below, one by one
                    for i in chunk:
                        docs[i] = make_doc(i)
            for k, i in enumerate(chunk):
                try:
                    result = results[k] if results is not None else step.filter(docs[i])
                except Exception as exc:
                    errors[i] = f"{type(exc).__name__}: {exc}"[:500]
                    continue
                ok, why = result if isinstance(result, tuple) else (result, None)
                _count(step, bool(ok), why, docs[i])
                if not ok:
                    keep[i] = False
                    reasons[i] = str(why) if why else self._default_reason

    def _run_rows(self, step: Any, rows: list[int], docs: list[Any], make_doc: Callable[[int], Any],
                  keep: np.ndarray, reasons: list[str | None], errors: list[str | None]) -> None:
        """Any other step: stream the documents through ``run``; those not yielded back were removed."""
        try:
            yielded = list(step.run(iter([docs[i] for i in rows]), 0, 1))
            returned = self._match(step, rows, docs, yielded)
        except _UnmatchedOutput:
            raise
        except Exception:  # one bad document should not take the batch down: again, one by one
            returned = set()
            for i in rows:
                docs[i] = make_doc(i)
                try:
                    returned |= self._match(step, [i], docs, list(step.run(iter([docs[i]]), 0, 1)))
                except _UnmatchedOutput:
                    raise
                except Exception as exc:
                    errors[i] = f"{type(exc).__name__}: {exc}"[:500]
        for i in rows:
            if i not in returned and errors[i] is None:
                keep[i] = False
                reasons[i] = self._default_reason

    def _match(self, step: Any, rows: list[int], docs: list[Any], yielded: Iterable[Any]) -> set[int]:
        by_object = {id(docs[i]): i for i in rows}
        by_id: dict[str, int] = {}
        for i in rows:
            by_id[docs[i].id] = -1 if docs[i].id in by_id else i  # -1: the id is not unique in this batch
        returned: set[int] = set()
        for doc in yielded:
            i = by_object.get(id(doc))
            if i is None:
                i = by_id.get(getattr(doc, "id", None), -1)
                if i < 0:
                    raise _UnmatchedOutput(
                        f"{_name_of(step)} yielded a document it was not given (id {getattr(doc, 'id', None)!r}); "
                        "steps that split, merge or create documents cannot run as a curate block"
                    )
                docs[i] = doc
            if i in returned:
                raise _UnmatchedOutput(f"{_name_of(step)} yielded document {docs[i].id!r} twice")
            returned.add(i)
        return returned

    def _back_to_table(self, table: pa.Table, docs: list[Any], texts: list[Any], meta_names: list[str],
                       aliases: dict[str, list[Any]], errors: list[str | None]) -> pa.Table:
        out = table
        # a missing text (HTML not extracted yet) went in as "" and stays missing unless the step wrote one
        new_texts = [None if t is None and d.text == "" else d.text for t, d in zip(texts, docs, strict=True)]
        if new_texts != texts:
            bad = [i for i, t in enumerate(new_texts) if t is not None and not isinstance(t, str)]
            for i in bad:
                errors[i] = errors[i] or f"datatrove step set text to a {type(new_texts[i]).__name__}"
                new_texts[i] = texts[i]
            out = out.set_column(out.schema.get_field_index(TEXT), TEXT, pa.array(new_texts, pa.string()))
        # original columns: rebuilt only when a value changed, with their own type
        for name in meta_names:
            values = [d.metadata.get(name) for d in docs]
            if values == table.column(name).to_pylist():  # fresh objects: in-place edits show up too
                continue
            dtype = table.schema.field(name).type
            arr, bad = ColumnTypes({name: dtype}).build(name, values)
            for i in bad:
                errors[i] = errors[i] or misfit_message(name, dtype, values[i])
            out = out.set_column(out.schema.get_field_index(name), name, arr)
        # keys the step added (and datatrove's language names, when the step changed them)
        known = set(meta_names)
        added: dict[str, None] = {}
        for d in docs:
            for key in d.metadata:
                if key not in known and key not in added:
                    added[key] = None
        for key in added:
            values = [d.metadata.get(key) for d in docs]
            if key in aliases and values == aliases[key]:
                continue
            name = f"metadata_{key}" if key in out.column_names else key  # e.g. a key named "text" or "html"
            arr, bad = self._types.build(name, values)
            for i in bad:
                errors[i] = errors[i] or misfit_message(key, self._types.types.get(name), values[i])
            out = out.append_column(name, arr)
        return out


def _unsupported(cls: type) -> str | None:
    """Why a datatrove step cannot run batch by batch inside a block (None: it can)."""
    # by name: importing the stats or dedup modules would need extras (HF tokenizers) the step may not need
    bases = {f"{c.__module__}.{c.__qualname__}" for c in cls.__mro__}
    module = cls.__module__
    if "datatrove.pipeline.readers.base.BaseReader" in bases:
        return ("it is a reader; use curate's input formats (input.format: datatrove_jsonl / datatrove_parquet "
                "read datatrove's outputs)")
    if "datatrove.pipeline.writers.disk_base.DiskWriter" in bases:
        return ("it is a writer and would rewrite its file for every batch; curate writes Parquet per language "
                "and removed rows to _removed/ itself")
    if "datatrove.pipeline.stats.base.BaseStats" in bases:
        return "it writes its statistics per run; curate's _stats/ and `curate report` cover this"
    if module.startswith(("datatrove.pipeline.dedup", "datatrove.pipeline.decont")) or (
            module.startswith("datatrove.pipeline.tokens") and not module.endswith(".counter")):
        return "it is a multi-stage job over all shards; use curate's minhash / exact_dedup steps"
    return None


def _check_dependencies(cls: type) -> None:
    """datatrove checks a step's extra packages when it is instantiated, i.e. on the first batch here; check at
    plan time instead, with the same rule (module importable and the named distribution installed)."""
    missing = []
    for klass in cls.__mro__:
        for dep in getattr(klass, "_requires_dependencies", None) or ():
            module, dist = dep if isinstance(dep, tuple) else (dep, dep)
            try:
                found = importlib.util.find_spec(module) is not None
                importlib.metadata.distribution(dist)
            except (ImportError, ValueError, importlib.metadata.PackageNotFoundError):
                found = False
            if not found and dist not in missing:
                missing.append(dist)
    if not missing:
        return
    hint = ""
    if "fasttext-numpy2-wheel" in missing:
        hint = (" -- but fasttext-numpy2-wheel overwrites the `fasttext` module of fasttext-predict that curate's "
                "langid calls; for language ID use curate's `langid` + `language_score` steps instead")
    raise DatatroveStepError(f"{_name_of(cls)} needs {', '.join(missing)}: pip install {' '.join(missing)}{hint}")


class _UnmatchedOutput(ValueError):
    """The step does not map documents one to one; retrying one by one would not help."""


def _count(step: Any, kept: bool, reason: Any, doc: Any) -> None:
    """The counters datatrove's own ``BaseFilter.run`` keeps, so ``step.stats`` reads as usual."""
    try:
        step.stat_update("total")
        if kept:
            step.stat_update("forwarded")
            step.update_doc_stats(doc)
        else:
            step.stat_update("dropped")
            if reason:
                step.stat_update(f"dropped_{reason}")
    except Exception:  # statistics must never change a decision
        pass


def _datatrove_language(config: LanguageConfig) -> tuple[Any, str]:
    """The ``language`` argument for datatrove's word tokenizers, and a label for the instance cache."""
    # optional extra (curate-corpus[datatrove]): imported when a datatrove step is built
    from datatrove.utils.word_tokenizers import WhitespaceTokenizer, load_tokenizer_assignments

    known = load_tokenizer_assignments()
    for candidate in (config.key, config.proxy):
        if candidate and candidate in known:
            return candidate, candidate
    return WhitespaceTokenizer(), "<whitespace>"
