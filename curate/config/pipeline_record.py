"""``OUT/_stats/pipeline.yaml``: the pipeline a run's output was made with, as YAML a user can rerun.

What determines the output (input, steps with their settings, per-language overrides, writer) and the
pipeline's name; never how or where it ran (executor, storage options, which may hold credentials), so the
same configuration writes the same bytes. ``curate export hf`` puts it in the dataset card.
"""

from __future__ import annotations

import io
import json
from typing import Any

from ruamel.yaml import YAML

from curate.config.pipeline_config import PipelineConfig


def pipeline_record(config: PipelineConfig) -> dict[str, Any]:
    identity = config.identity()
    return {
        "name": config.name,
        "input": identity["input"],
        "pipeline": [{name: settings} for name, settings in identity["pipeline"]],
        **({"overrides": identity["overrides"]} if identity["overrides"] else {}),
        "writer": identity["writer"],
    }


def pipeline_yaml(config: PipelineConfig) -> str:
    # through JSON: YAML-parsed numbers are ruamel scalar subclasses and a user block's settings may hold any
    # object; the safe dumper writes plain types only (anything else as its string)
    plain = json.loads(json.dumps(pipeline_record(config), default=str))
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buffer = io.StringIO()
    yaml.dump(plain, buffer)
    return buffer.getvalue()
