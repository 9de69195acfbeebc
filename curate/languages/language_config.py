"""Per-language settings: one row of the language table (see the README, "Languages")."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LanguageConfig:
    """Everything that is decided per language.

    Defaults of the threshold fields are FineWeb2's (huggingface/fineweb-2 ``configs/*.yml``);
    the language table fills them per ``xxx_Scrp`` key.
    """

    key: str  # ISO 639-3 + "_" + ISO 15924, e.g. "por_Latn"
    name: str = ""
    script: str = ""
    language_score: float = 0.65
    dup_line_frac: float = 0.3
    top_n_grams: tuple[tuple[int, float], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[int, float], ...] = (
        (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10),
    )
    line_punct_thr: float = 0.12  # -1 disables the rule
    new_line_ratio: float = 0.3
    min_avg_word_length: float = 3
    max_avg_word_length: float = 10
    max_non_alpha_words_ratio: float = 0.8
    stopwords: tuple[str, ...] = ()
    tokenizer: str = "whitespace"  # word tokenizer kind, e.g. "spacy:pt", "thai", "jieba"
    proxy: str = ""  # language whose tokenizer/settings stand in, when assigned by proxy
    tier: str = "low"  # extreme-low / low / mid / high
    source: dict[str, str] = field(default_factory=dict)  # field -> where the value came from
    words: int | None = None  # words FineWeb2 released for this key (train + test); None = no count
