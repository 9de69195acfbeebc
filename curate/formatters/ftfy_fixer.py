"""Fix mojibake and broken Unicode with ftfy, without normalising the text's style.

Speer 2019, ftfy ("fixes text for you", Zenodo 10.5281/zenodo.2591652). FineWeb2 (Penedo et al.
2025, arXiv:2506.20920; "finishing touches", step 6 of huggingface/fineweb-2's pipeline) runs ftfy on every document because
encoding errors are frequent in multilingual crawls. The settings are FineWeb2's (datatrove's
``FTFYFormatter``): fix encodings, C1 controls, surrogates, HTML entities and terminal escapes,
remove control characters, but leave ligatures, character width (full-width CJK punctuation is
correct!), curly quotes, line breaks and Unicode normalisation alone, so the model still sees
the text as people write it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from curate.formatters._base import TextFormatter


class FtfyFormatter(TextFormatter):
    """ftfy.fix_text with FineWeb2's conservative configuration."""

    name: ClassVar[str] = "ftfy"

    def __init__(
        self,
        unescape_html: str | bool = "auto",
        remove_terminal_escapes: bool = True,
        fix_encoding: bool = True,
        restore_byte_a0: bool = True,
        replace_lossy_sequences: bool = True,
        decode_inconsistent_utf8: bool = True,
        fix_c1_controls: bool = True,
        fix_latin_ligatures: bool = False,
        fix_character_width: bool = False,
        uncurl_quotes: bool = False,
        fix_line_breaks: bool = False,
        fix_surrogates: bool = True,
        remove_control_chars: bool = True,
        normalization: Literal["NFC", "NFD", "NFKC", "NFKD"] | None = None,
    ) -> None:
        self.unescape_html = unescape_html
        self.remove_terminal_escapes = remove_terminal_escapes
        self.fix_encoding = fix_encoding
        self.restore_byte_a0 = restore_byte_a0
        self.replace_lossy_sequences = replace_lossy_sequences
        self.decode_inconsistent_utf8 = decode_inconsistent_utf8
        self.fix_c1_controls = fix_c1_controls
        self.fix_latin_ligatures = fix_latin_ligatures
        self.fix_character_width = fix_character_width
        self.uncurl_quotes = uncurl_quotes
        self.fix_line_breaks = fix_line_breaks
        self.fix_surrogates = fix_surrogates
        self.remove_control_chars = remove_control_chars
        self.normalization = normalization
        self._config: Any = None

    def format(self, text: str) -> str:
        # heavy import: loaded only when the ftfy step runs
        import ftfy

        if self._config is None:
            self._config = ftfy.TextFixerConfig(**self.describe())
        return ftfy.fix_text(text, config=self._config)
