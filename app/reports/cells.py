"""Text cells that a spreadsheet cannot take for a formula (CSV injection, OWASP).

A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (and some read a tab or a
carriage return before one), so such text is written behind a `'`, which spreadsheets show
as text. A text that already begins with `'` followed by one of those characters gets one
more, so that `unescape_formula` can undo exactly what `escape_formula` added: the native
CSV re-imports every text as it was.
"""

import re

_FORMULA_START = "=+-@\t\r"
# A text that needs a quote: any run of quotes (maybe none), then a formula's first character.
_NEEDS_QUOTE = re.compile(rf"'*[{re.escape(_FORMULA_START)}]")
# A text the escaping wrote: at least one quote, then a formula's first character.
_QUOTED = re.compile(rf"'+[{re.escape(_FORMULA_START)}]")


def escape_formula(text: str) -> str:
    """`text` as a spreadsheet shows it: never read as a formula."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def unescape_formula(text: str) -> str:
    """The text `escape_formula` was given."""
    return text[1:] if _QUOTED.match(text) else text
