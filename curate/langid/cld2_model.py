"""CLD2 (Chromium's Compact Language Detector 2, via ``pycld2``) as the ``langid`` block's second opinion.

165 detected languages, quadgram tables compiled into the wheel (no model file, nothing to load). Called in its
default mode (not ``bestEffort``): for text too short or too mixed it answers "unknown" or "not reliable", which
we treat as no answer. See :mod:`curate.langid.second_opinion` for why CLD2 is the default.
"""

from __future__ import annotations

import re

from curate.langid.second_opinion import SecondOpinion, key_for
from curate.languages.labels import UND

# CLD2 raises "input contains invalid UTF-8" on C0/C1 controls (but tab/LF/CR), DEL, noncharacters, and Python
# cannot even encode lone surrogates: on such an error, these are replaced with spaces and CLD2 asked again.
_NONCHARS = "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
_REJECTED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NONCHARS}]")


class Cld2Model(SecondOpinion):
    """``predict(texts)`` -> ``(key, share of the text in that language)``, or ``("und", 0.0)`` when unreliable."""

    name = "cld2"

    def __init__(self) -> None:
        # optional second opinion: imported only when configured
        import pycld2

        self._detect = pycld2.detect
        self._error = pycld2.error

    def predict_one(self, text: str) -> tuple[str, float]:
        try:
            reliable, _, details = self._detect(text, isPlainText=True)
        except (self._error, UnicodeError):  # rare: blank what CLD2 refuses and try once more
            try:
                reliable, _, details = self._detect(_REJECTED.sub(" ", text), isPlainText=True)
            except (self._error, ValueError, UnicodeError):  # defensive: anything still refused is "no answer"
                return UND, 0.0
        if not reliable or not details:
            return UND, 0.0
        _, code, percent, _ = details[0]
        return key_for(code, text), min(max(percent / 100.0, 0.0), 1.0)

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        return [self.predict_one(text) for text in texts]
