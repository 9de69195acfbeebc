"""Document perplexity under one language's n-gram model, the CCNet way (Wenzek et al. 2019, Sec. 3.3).

Per line (the default, as cc_net ``perplexity.DocLM``): normalise with CCNet's
:func:`~curate.quality.ccnet_normalize.normalize`, tokenise, score with the model (``<s>``/``</s>``
around the line), then over the document::

    perplexity = 10 ** (-sum(line log10 scores) / sum(tokens in line + 1))

(``+1`` counts ``</s>``, as ``DocLM`` does; lines that are empty after normalisation are skipped,
where ``DocLM`` would score them as ``<s> </s>``.) With ``per_line=False`` the document is normalised
as a whole, which deletes its newlines (CCNet's control-character rule), and scored as one line:
what CCNet's released pipeline (``mine.py``: normalise, SentencePiece, ``DocLM``) actually computes,
and so what its published per-language cut-offs refer to.

Tokenisation: CCNet tokenises with a per-language SentencePiece model trained on Wikipedia, shipped
next to each of its KenLM models. No such model can be downloaded here, so by default the language's
word tokenizer from the language table is used (``curate.tokenizers.get_word_tokenizer``: spaCy rules,
jieba, Sudachi, Kiwi, PyThaiNLP, ...), which is what models built from reference text with
:mod:`curate.quality.arpa_builder` expect. Pass ``sentencepiece_model`` (needs the ``sentencepiece``
package) when scoring with CCNet's models, or ``tokenizer="none"`` to score the normalised text split
on whitespace. The tokenisation must always be the one the model was trained on.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any

from curate.languages.table import load_language_table
from curate.models.resolve import is_url, resolve_model
from curate.quality.ccnet_normalize import normalize
from curate.quality.errors import SentencePieceUnavailableError
from curate.quality.kenlm_model import Backend, load_language_model
from curate.tokenizers import get_word_tokenizer


def _local(spec: str, sha256: str | None, what: str) -> str:
    # a plain local path stays as given (no checksum to compute); URLs and pinned files go through resolve
    return resolve_model(spec, sha256, what=what) if is_url(spec) or sha256 else spec


_RESERVED = {"<s>": "s", "</s>": "/s", "<unk>": "unk"}  # text tokens that would collide with model symbols


def language_tokenizer_spec(languages: Any, lang: str) -> str:
    """The word-tokenizer spec of ``lang`` in the (pipeline's) language table; ``whitespace`` if unknown."""
    table = languages
    if table is None:
        table = load_language_table()
    try:
        cfg = table.get(lang)
    except Exception:
        cfg = None
    return str(getattr(cfg, "tokenizer", "") or "whitespace")


def require_sentencepiece(path: str) -> None:
    """:class:`SentencePieceUnavailableError` saying what to install when ``sentencepiece`` is missing."""
    if importlib.util.find_spec("sentencepiece") is None:
        raise SentencePieceUnavailableError(
            f"a SentencePiece model ({path!r}) is configured but the `sentencepiece` package is not installed: "
            "`pip install sentencepiece`, or drop sentencepiece_models to use the language's word tokenizer"
        )


@lru_cache(maxsize=32)
def load_sentencepiece(path: str) -> Any:
    """A SentencePiece processor for ``path``, loaded once per process."""
    require_sentencepiece(path)
    # optional extra (curate-corpus[quality]): imported only when a SentencePiece model is used
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor()
    sp.Load(path)
    return sp


class PerplexityScorer:
    """Scores documents of one language: normalisation, tokenisation and n-gram model together.

    ``tokenizer``: a spec for :func:`curate.tokenizers.get_word_tokenizer` (``spacy:en``, ``chinese``,
    ...) or ``"none"`` (whitespace split); ignored when ``sentencepiece_model`` is given.

    ``model_path`` and ``sentencepiece_model`` are local paths or URLs (``hf://``, ``s3://``, ``https://``):
    URLs come through the model cache (:func:`curate.models.resolve.resolve_model`, once per process), and
    ``model_sha256`` / ``sentencepiece_sha256`` pin the files' checksums.
    """

    def __init__(
        self,
        model_path: str,
        tokenizer: str = "none",
        sentencepiece_model: str | None = None,
        normalize_text: bool = True,
        strip_accents: bool = True,
        per_line: bool = True,
        backend: Backend = "auto",
        model_sha256: str | None = None,
        sentencepiece_sha256: str | None = None,
    ) -> None:
        self.model_path = model_path
        self.model_sha256 = model_sha256
        self.sentencepiece_sha256 = sentencepiece_sha256
        self.tokenizer = tokenizer
        self.sentencepiece_model = sentencepiece_model
        self.normalize_text = normalize_text
        self.strip_accents = strip_accents
        self.per_line = per_line
        self.backend = backend
        self._words: Any = None
        self._sp: Any = None

    def model_file(self) -> str:
        """The n-gram model's local file (a URL resolved through the model cache)."""
        return _local(self.model_path, self.model_sha256, "KenLM model")

    def sentencepiece_file(self) -> str | None:
        """The SentencePiece model's local file, or None without one."""
        if not self.sentencepiece_model:
            return None
        return _local(self.sentencepiece_model, self.sentencepiece_sha256, "SentencePiece model")

    @property
    def model(self) -> Any:
        return load_language_model(self.model_file(), self.backend)

    def _tokens(self, line: str) -> list[str]:
        if self.sentencepiece_model:
            if self._sp is None:
                self._sp = load_sentencepiece(self.sentencepiece_file())
            return list(self._sp.EncodeAsPieces(line))
        if self.tokenizer in ("none", "", None):
            return line.split()
        if self._words is None:
            self._words = get_word_tokenizer(self.tokenizer)
        return self._words.words(line)

    def token_lines(self, text: str) -> list[str]:
        """The lines exactly as the model scores them: normalised, tokenised, tokens joined by one space."""
        if self.per_line:
            raw = text.splitlines()
        else:
            raw = [text]
        out: list[str] = []
        for line in raw:
            if self.normalize_text:
                line = normalize(line, accent=self.strip_accents)
            if not line or line.isspace():
                continue
            tokens = " ".join(self._tokens(line)).split()  # any Unicode space separates, as in ArpaModel
            if not tokens:
                continue
            out.append(" ".join(_RESERVED.get(t, t) for t in tokens))
        return out

    def score(self, text: str) -> tuple[float, int]:
        """(sum of log10 line scores, number of scored tokens incl. one ``</s>`` per line)."""
        model = self.model
        total = 0.0
        length = 0
        for line in self.token_lines(text):
            total += model.score(line, bos=True, eos=True)
            length += line.count(" ") + 2  # words + </s>
        return total, length

    def perplexity(self, text: str) -> float | None:
        """``10 ** (-log10 score / tokens)``, or None when the document has nothing to score."""
        total, length = self.score(text)
        if length == 0:
            return None
        return float(10.0 ** (-total / length))
