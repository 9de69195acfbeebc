"""Canonical column names of the document data model (see the README, "Outputs")."""

from __future__ import annotations

import pyarrow as pa

ID = "id"
TEXT = "text"
HTML = "html"  # raw payload from a WARC response; dropped once text is extracted
URL = "url"
DATE = "date"
SOURCE = "source"
LANG = "lang"
LANG_SCORE = "lang_score"
LANG_TOPK = "lang_topk"
LANG_MODEL = "lang_model"  # which model decided ``lang``: "fasttext" or the second opinion's name
CLUSTER_SIZE = "minhash_cluster_size"
CLUSTER_ID = "minhash_cluster_id"
SIMILARITY = "minhash_similarity"  # to the kept document of its cluster, when minhash verifies clusters
WEIGHT = "weight"
DROP_STAGE = "drop_stage"
DROP_REASON = "drop_reason"

UNKNOWN_LANG = "und"  # documents not (yet) language-identified

# Columns a reader produces; every reader emits exactly these, in this order.
READER_SCHEMA = pa.schema(
    [
        pa.field(ID, pa.string()),
        pa.field(URL, pa.string()),
        pa.field(DATE, pa.string()),
        pa.field(SOURCE, pa.string()),
        pa.field(HTML, pa.string()),
        pa.field(TEXT, pa.string()),
    ]
)
