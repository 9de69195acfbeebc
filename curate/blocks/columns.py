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
# page-level opt-out signals the WARC reader finds in a response (curate/io/page_signals.py), null when absent:
ROBOTS_TAG = "robots_tag"  # X-Robots-Tag + <meta name="robots">: "noai,noindex,gptbot:noai" (sorted, lowercase)
TDM_RESERVATION = "tdm_reservation"  # TDMRep tdm-reservation header or meta: 1 reserved, 0 not
TDM_POLICY = "tdm_policy"  # TDMRep tdm-policy URL
# what a capture reader adds (``curate optout build`` reads robots.txt captures, whatever their status)
HTTP_STATUS = "http_status"
HTTP_LOCATION = "http_location"

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
        pa.field(ROBOTS_TAG, pa.string()),
        pa.field(TDM_RESERVATION, pa.int8()),
        pa.field(TDM_POLICY, pa.string()),
    ]
)
# the columns a capture reader (``RecordConverter(captures=True)``) appends to READER_SCHEMA's
CAPTURE_FIELDS = (pa.field(HTTP_STATUS, pa.int16()), pa.field(HTTP_LOCATION, pa.string()))
