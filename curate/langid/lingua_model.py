"""lingua (``lingua-language-detector``, Rust) as the ``langid`` block's second opinion: ``second_opinion: lingua``.

75 languages, n-gram models shipped in the wheel and loaded lazily (per language, the first time a text in its
script is seen; with every model loaded a worker holds about 1.4 GB). Much slower than CLD2 (milliseconds per
document), an optional extra: ``pip install 'curate-corpus[lingua]'``. See
:mod:`curate.langid.second_opinion` for the comparison.
"""

from __future__ import annotations

from curate.langid.second_opinion import SecondOpinion, key_for
from curate.languages.labels import UND


class LinguaModel(SecondOpinion):
    """``predict(texts)`` -> ``(key, lingua's top relative confidence)``; ``("und", 0.0)`` for text without letters."""

    name = "lingua"

    def __init__(self) -> None:
        # optional second opinion (large models): imported only when configured
        from lingua import LanguageDetectorBuilder

        # high-accuracy mode: the low-accuracy one is 3x faster but still ~100x slower than CLD2 and less accurate
        self._detector = LanguageDetectorBuilder.from_all_languages().build()

    def predict_one(self, text: str) -> tuple[str, float]:
        values = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0.0:
            return UND, 0.0
        top = values[0]
        return key_for(top.language.iso_code_639_1.name.lower(), text), min(max(float(top.value), 0.0), 1.0)

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        return [self.predict_one(text) for text in texts]
