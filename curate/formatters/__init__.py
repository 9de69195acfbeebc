"""Formatter blocks (transforms of the ``text`` column), FineWeb2's "finishing touches".

- ``ftfy`` -> :class:`FtfyFormatter`: fix mojibake / broken Unicode (ftfy, FineWeb2 settings)
- ``pii`` -> :class:`PIIFormatter`: e-mails and public IPv4 addresses -> placeholders
- ``symbol_lines`` -> :class:`SymbolLinesFormatter`: drop lines made only of symbols ("|" tables)
"""

from curate.formatters.ftfy_fixer import FtfyFormatter
from curate.formatters.pii_formatter import PIIFormatter
from curate.formatters.symbol_lines import SymbolLinesFormatter

FORMATTERS = {cls.name: cls for cls in (FtfyFormatter, PIIFormatter, SymbolLinesFormatter)}

__all__ = ["FORMATTERS", "FtfyFormatter", "PIIFormatter", "SymbolLinesFormatter"]
