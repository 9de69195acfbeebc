"""The pipeline file schema. Validation happens before any work and names file, line and key."""

from __future__ import annotations

import inspect
import re
import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from curate.blocks.base import Block
from curate.blocks.registry import BUILTIN_BLOCKS, UnknownBlockError, resolve_block
from curate.config.key_check import check_keys, closest
from curate.config.yaml_source import PipelineConfigError, YamlSource, load_yaml, parse_yaml
from curate.errors import CurateError
from curate.io.input_files import READERS
from curate.languages.table import OVERRIDABLE_FIELDS, load_language_table
from curate.storage.option_keys import nested_option_keys, option_keys
from curate.storage.options import validate_storage_options


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputConfig(_Strict):
    paths: list[str] = Field(min_length=1, description="files, folders, globs or fsspec URLs (s3://, gs://, hf://)")
    format: Literal["auto", "warc", "wacz", "arc", "jsonl", "parquet", "datatrove_jsonl", "datatrove_parquet"] = "auto"
    batch_size: int = Field(256, ge=1)
    options: dict[str, Any] = Field(default_factory=dict, description="reader settings, e.g. text_key, max_bytes")
    # Gopher quality removes documents over 100,000 words (Rae et al. 2021, appendix A, table A1);
    # 5 MB is many times that in any script, and the byte check costs nothing next to tokenizing
    max_text_bytes: int | None = Field(5_000_000, ge=1, description="documents with more text are skipped "
                                       "(counted as read skipped:text_too_large) before any step; null: no limit")


class ExecutorConfig(_Strict):
    type: Literal["local", "ray"] = "local"
    workers: int | None = Field(None, ge=1, description="parallel tasks of a local run (default: CPU count) or "
                                "the CPUs of a private local Ray; a cluster run keeps 2x its CPUs busy unless "
                                "--workers is given")
    address: str | None = Field(None, description="Ray cluster address (ray executor)")
    retries: int = Field(3, ge=0, description="retries of a failed shard task (ray executor)")
    shared_filesystem: bool = Field(
        False, description="the output is a local path mounted on every node (NFS, Lustre): allow it on a "
        "multi-node cluster (the preflight probe still checks every node sees it)")


class WriterConfig(_Strict):
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    compression_level: int | None = 3
    row_group_rows: int = Field(20_000, ge=1, description="rows per Parquet row group, at most")
    row_group_bytes: int = Field(8 * 2**20, ge=1, description="text bytes per row group, at most (a row group "
                                 "is what a worker holds in memory per output file)")
    write_removed: bool = True
    tokenizer: str | None = Field(None, description="tokenizer.json (Hugging Face tokenizers) to count output tokens")


class StepConfig(BaseModel):
    """One pipeline step after validation."""

    name: str
    settings: dict[str, Any]
    index: int

    def build(self) -> Block:
        return resolve_block(self.name)(**self.settings)


class PipelineConfig(_Strict):
    name: str = "pipeline"
    input: InputConfig
    output: str
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    writer: WriterConfig = Field(default_factory=WriterConfig)
    pipeline: list[Any] = Field(min_length=1)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    storage: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="fsspec options per protocol, e.g. {s3: {endpoint_url: ...}}")
    max_error_rate: float = Field(0.01, ge=0.0, le=1.0, description="errored share of a step's input above "
                                  "which the run fails (per shard and per run; see curate.pipeline.error_budget)")
    min_errors: int = Field(10, ge=0, description="errors a step may always have before max_error_rate applies")
    source_path: str = Field("<string>", exclude=True)

    @property
    def steps(self) -> list[StepConfig]:
        return [StepConfig(name=name, settings=settings, index=i)
                for i, (name, settings) in enumerate(_step_items(self.pipeline))]

    def identity(self) -> dict[str, Any]:
        """What determines the output: everything but how and where it runs."""
        return {
            "input": self.input.model_dump(),
            "pipeline": [[s.name, s.settings] for s in self.steps],
            "overrides": self.overrides,
            "writer": self.writer.model_dump(),
        }


def _step_items(pipeline: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    items = []
    for step in pipeline:
        if isinstance(step, str):
            items.append((step, {}))
        else:
            (name, settings), = step.items()
            items.append((name, dict(settings or {})))
    return items


def _settings_model(cls: type[Block]) -> type[BaseModel]:
    sig = inspect.signature(cls)
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # unresolvable annotations in user code: validate names only
        hints = {}
    fields: dict[str, Any] = {}
    for param in sig.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or param.name == "self":
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (hints.get(param.name, Any), default)
    return create_model(f"{cls.__name__}Settings", __config__=ConfigDict(extra="forbid"), **fields)


def _check_block_keys(src: YamlSource, loc: tuple[str | int, ...], cls: type[Block], settings: dict[str, Any],
                      label: str) -> None:
    params = [p for p in inspect.signature(cls).parameters.values() if p.name != "self"]
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return  # a block taking **kwargs (a wrapped datatrove step) checks its own settings
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    required = [p.name for p in named if p.default is inspect.Parameter.empty]
    check_keys(src, loc, settings, [p.name for p in named], required, label, _allowed(cls), noun="setting")


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (``Budget | None`` -> ``Budget``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _nested_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The field names of the model found at ``loc`` inside ``model`` (None when it is no model)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or part not in current.model_fields:
            return None
        current = _model_in(current.model_fields[part].annotation)
    return list(current.model_fields) if current is not None else None


def _dig(mapping: Any, loc: tuple[Any, ...]) -> dict[str, Any]:
    for part in loc:
        mapping = mapping.get(part, {}) if isinstance(mapping, dict) else {}
    return mapping if isinstance(mapping, dict) else {}


def _allowed(cls: type[Block]) -> str:
    names = [p for p in inspect.signature(cls).parameters if p != "self"]
    return ", ".join(names) if names else "(no settings)"


_SECTIONS: dict[str, type[BaseModel]] = {"input": InputConfig, "executor": ExecutorConfig, "writer": WriterConfig}


def _model_keys(model: type[BaseModel]) -> tuple[list[str], list[str]]:
    fields = {k: f for k, f in model.model_fields.items() if k != "source_path"}
    return list(fields), [k for k, f in fields.items() if f.is_required()]


def _check_section_keys(src: YamlSource, data: dict[str, Any]) -> None:
    allowed, required = _model_keys(PipelineConfig)
    check_keys(src, (), data, allowed, required, "")
    for section, model in _SECTIONS.items():
        if isinstance(data.get(section), dict):
            allowed, required = _model_keys(model)
            check_keys(src, (section,), data[section], allowed, required, f"{section}: ")
    if isinstance(data.get("input"), dict) and isinstance(data["input"].get("options"), dict):
        _check_reader_options(src, data["input"])
    if isinstance(data.get("overrides"), dict):
        _check_override_keys(src, data["overrides"])
    if isinstance(data.get("storage"), dict):
        _check_storage_keys(src, data["storage"])


def _candidate_readers(section: dict[str, Any]) -> list[str]:
    """The readers ``input`` may use: its ``format``, else those the paths' endings name (all of them when a
    path is a folder, a glob or an ending no reader claims: any format may turn up there)."""
    fmt = section.get("format", "auto")
    if fmt != "auto":
        return [fmt] if fmt in READERS else []
    names: list[str] = []
    for path in section.get("paths") or []:
        lower = str(path).lower()
        matches = [(len(sfx), name) for name, reader in READERS.items() for sfx in reader.suffixes
                   if lower.endswith(sfx)]
        if not matches:
            return list(READERS)
        names.append(max(matches)[1])
    return list(dict.fromkeys(names)) or list(READERS)


def _check_reader_options(src: YamlSource, section: dict[str, Any]) -> None:
    """``input.options`` are the settings of the reader(s) that will read the inputs: every key one of theirs,
    every value of its type (before work, so that the run does not stop at its first file)."""
    loc: tuple[str | int, ...] = ("input", "options")
    options = section["options"]
    if "batch_size" in options:
        raise PipelineConfigError(f"{src.where(loc + ('batch_size',))}: input.options.batch_size: the batch size "
                                  "is input.batch_size, one level up; move it there")
    readers = _candidate_readers(section)
    allowed = list(dict.fromkeys(k for name in readers for k in READERS[name].settings()))
    check_keys(src, loc, options, allowed, [], f"input.options (settings of the {'/'.join(readers)} reader): ")
    for name in readers:
        cls = READERS[name]
        mine = {k: v for k, v in options.items() if k in cls.settings()}
        try:
            _settings_model(cls)(**mine)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = str(err["loc"][0]) if err["loc"] else ""
            raise PipelineConfigError(f"{src.where(loc + (key,))}: input.options.{key}: {err['msg']} (got "
                                      f"{err.get('input')!r}; the {name} reader's setting)") from None


def _check_override_keys(src: YamlSource, overrides: dict[str, Any]) -> None:
    for label, changes in overrides.items():
        if isinstance(changes, dict):
            check_keys(src, ("overrides", label), changes, list(OVERRIDABLE_FIELDS), [],
                       f"overrides.{label}: ", noun="language setting")
        try:
            load_language_table().with_overrides({label: changes})
        except (KeyError, ValueError, TypeError) as exc:
            raise PipelineConfigError(f"{src.where(('overrides', label))}: overrides: {exc}") from None


def _check_storage_keys(src: YamlSource, storage: dict[str, Any]) -> None:
    for protocol, options in storage.items():
        try:
            validate_storage_options({protocol: options})
            allowed, closed = option_keys(str(protocol))
        except (CurateError, ImportError, ValueError) as exc:
            raise PipelineConfigError(f"{src.where(('storage', protocol))}: {exc}") from None
        loc: tuple[str | int, ...] = ("storage", protocol)
        if closed:
            check_keys(src, loc, options, allowed, [], f"storage.{protocol}: ", noun="option")
        else:  # the filesystem passes other keys on: only a near miss of a known one is surely a typo
            for key in options:
                guess = None if key in allowed else closest(str(key), allowed)
                if guess:
                    raise PipelineConfigError(f"{src.where(loc + (key,))}: storage.{protocol}: unknown option "
                                              f"{key!r} (did you mean {guess!r}?); allowed: {', '.join(allowed)}")
        _check_nested_storage(src, str(protocol), loc, options, ())


def _check_nested_storage(src: YamlSource, protocol: str, loc: tuple[str | int, ...], mapping: dict[str, Any],
                          path: tuple[str, ...]) -> None:
    for key, value in mapping.items():
        if not isinstance(value, dict):
            continue
        inner = (*path, str(key))
        allowed = nested_option_keys(protocol, inner)
        if allowed is None:
            continue
        check_keys(src, loc + inner, value, allowed, [], f"storage.{protocol}.{'.'.join(inner)}: ", noun="option")
        _check_nested_storage(src, protocol, loc, value, inner)


def validate_source(src: YamlSource) -> PipelineConfig:
    data = dict(src.data)
    _check_section_keys(src, data)
    try:
        config = PipelineConfig(**data, source_path=src.path)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            model_fields = {
                (): PipelineConfig, ("input",): InputConfig, ("executor",): ExecutorConfig, ("writer",): WriterConfig,
            }.get(loc[:-1], PipelineConfig)
            allowed = ", ".join(f for f in model_fields.model_fields if f != "source_path")
            raise PipelineConfigError(f"{src.where(loc)}: unknown key {key!r}; allowed here: {allowed}") from None
        raise PipelineConfigError(f"{src.where(loc)}: {key}: {err['msg']} (got {err.get('input')!r})") from None
    for i, step in enumerate(config.pipeline):
        loc: tuple[str | int, ...] = ("pipeline", i)
        if isinstance(step, str):
            step = {step: {}}
        if not isinstance(step, dict) or len(step) != 1:
            raise PipelineConfigError(
                f"{src.where(loc)}: pipeline[{i}]: each step is one block name with its settings, "
                f"e.g. '- gopher_quality: {{}}'; got {step!r}"
            )
        (name, settings), = step.items()
        try:
            cls = resolve_block(str(name))
        except UnknownBlockError as exc:
            raise PipelineConfigError(f"{src.where(loc + (name,))}: pipeline[{i}]: {exc}") from None
        if settings is not None and not isinstance(settings, dict):
            raise PipelineConfigError(
                f"{src.where(loc + (name,))}: pipeline[{i}].{name}: settings must be a mapping; got {settings!r}"
            )
        _check_block_keys(src, loc + (name,), cls, settings or {}, f"pipeline[{i}].{name}: ")
        try:
            _settings_model(cls)(**(settings or {}))
            cls(**(settings or {}))  # the block's own checks (e.g. a wrapped datatrove step's args)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            where = src.where(loc + (name,) + tuple(err["loc"][:1]))
            if err["type"] == "extra_forbidden" and len(err["loc"]) > 1:  # a key inside a setting (budget.unti)
                nested = _nested_fields(_settings_model(cls), tuple(err["loc"][:-1]))
                if nested is not None:
                    check_keys(src, loc + (name, *err["loc"][:-1]), _dig(settings or {}, err["loc"][:-1]), nested,
                               [], f"pipeline[{i}].{name}.{'.'.join(str(p) for p in err['loc'][:-1])}: ")
            if err["type"] == "extra_forbidden":
                raise PipelineConfigError(
                    f"{where}: pipeline[{i}].{name}: unknown setting {key!r}; allowed: {_allowed(cls)}"
                ) from None
            raise PipelineConfigError(
                f"{where}: pipeline[{i}].{name}.{key}: {err['msg']} (got {err.get('input')!r})"
            ) from None
        except (ValueError, TypeError, ImportError, LookupError) as exc:
            # the block's own check: point at the setting its message names, if any
            named = [k for k in (settings or {}) if re.search(rf"\b{re.escape(str(k))}\b", str(exc))]
            where = src.where(loc + (name,) + tuple(named[:1]))
            raise PipelineConfigError(f"{where}: pipeline[{i}].{name}: {exc}") from None
    _validate_overrides(config, src)
    try:
        validate_storage_options(config.storage)
    except CurateError as exc:
        raise PipelineConfigError(f"{src.where(('storage',))}: {exc}") from None
    return config


def _validate_overrides(config: PipelineConfig, src: YamlSource) -> None:
    if not config.overrides:
        return
    try:
        load_language_table().with_overrides(config.overrides)
    except (KeyError, ValueError, TypeError) as exc:
        raise PipelineConfigError(f"{src.where(('overrides',))}: overrides: {exc}") from None


def load_pipeline(path: str) -> PipelineConfig:
    return validate_source(load_yaml(path))


def parse_pipeline(text: str, path: str = "<string>") -> PipelineConfig:
    return validate_source(parse_yaml(text, path))


def builtin_block_names() -> list[str]:
    return sorted(BUILTIN_BLOCKS)
