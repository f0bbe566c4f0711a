"""Text that prints on a legal document: refuse the characters that make print and data disagree.

An invoice, allowance, proof (證明聯), A4 PDF, MIG XML message, notice e-mail or console page
shows free text a caller typed: item descriptions, names, addresses, reasons, API-key names. Some
characters are invisible or rearrange what is around them, so the printed document can read
differently from the data that was filed: a RIGHT-TO-LEFT OVERRIDE (U+202E) makes ``1000 cod``
print as ``doc 0001``, a line break in a description prints as a line of its own, a BOM or a
zero-width space makes two equal-looking names different. Such text is refused, never silently
stripped, so what the caller sent, what is stored and what prints are the same string.

Refused, with the reason:

- **Controls** (Unicode ``Cc``): C0 U+0000-U+001F, DEL U+007F, C1 U+0080-U+009F. Tab and line
  breaks too: no printed field here is multi-line. A MIG ``Remark`` is one element that the
  MOF platform and the 5.7 cm proof show on one line, so a newline there would print a line the
  data does not have (a fake "total" under the real one) or be lost.
- **Format characters** (``Cf``): the BOM U+FEFF, zero-width U+200B/U+200C/U+200E/U+200F, the bidi
  embeddings and overrides U+202A-U+202E and isolates U+2066-U+2069, the Arabic letter mark
  U+061C, the soft hyphen U+00AD, word joiners and invisible operators U+2060-U+2064, interlinear
  annotations U+FFF9-U+FFFB and the like: invisible, or they reorder text.
- **Line and paragraph separators** U+2028/U+2029 (``Zl``/``Zp``): a line break by another name.
- **Lone surrogates** (``Cs``): not characters at all; no encoding (UTF-8, Big5, XML) can carry them.
- **Noncharacters** U+FDD0-U+FDEF and every U+xxFFFE/U+xxFFFF: reserved for internal use, never
  for interchange.

Kept, with the reason:

- CJK of every plane (𠀋 U+2000B in Ext B), full-width punctuation, the ideographic space U+3000.
- Emoji, including ZWJ sequences: U+200D (ZERO WIDTH JOINER) is a format character but the one
  that joins 👨‍👩‍👧; variation selectors (U+FE0F, and the ideographic variation selectors
  U+E0100-U+E01EF used for variant forms of rare name characters) are combining marks, not
  format characters. Tag characters U+E0020-U+E007F are kept only inside an emoji tag sequence
  (🏴 + tags + CANCEL TAG, the flags of Scotland or Wales); elsewhere they hide ASCII text.
- Private use U+E000-U+F8FF and planes 15-16: Taiwanese systems map 造字 (rare characters in
  people's and places' names, Big5 user-defined area, 全字庫 extensions) there, and refusing them
  would refuse real buyers' names. They print as whatever the font draws, not as a control.
- Unassigned code points (other than noncharacters): the Unicode tables this Python knows lag the
  devices callers type on, so a newer emoji looks unassigned here; refusing it would refuse
  ordinary text and protect against nothing.

Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

from chalicelib.domain.errors import InvalidInput

ZERO_WIDTH_JOINER = "\u200d"
INVALID_CHARACTERS = "INVALID_CHARACTERS"

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_BLACK_FLAG = "\U0001f3f4"
# Emoji tag sequence (UTS #51): black flag, tag characters, CANCEL TAG, e.g. the flag of Scotland.
_TAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def _is_refused(char: str) -> bool:
    if char == ZERO_WIDTH_JOINER:
        return False
    return _is_noncharacter(ord(char)) or unicodedata.category(char) in _REFUSED_CATEGORIES


def first_refused(value: str) -> tuple[int, str] | None:
    """``(index, character)`` of the first character :func:`printable_text` refuses, or None."""
    if value.isprintable():  # the usual case, checked in C: no control, format or separator at all
        return None
    tagged = [match.span() for match in _TAG_SEQUENCE.finditer(value)] if _BLACK_FLAG in value else []
    for index, char in enumerate(value):
        if _is_refused(char) and not any(start <= index < end for start, end in tagged):
            return index, char
    return None


def describe(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``; controls and surrogates have no name, so their kind."""
    code = ord(char)
    label = f"U+{code:04X}"
    name = unicodedata.name(char, "")
    if name:
        return f"{label} {name}"
    if _is_noncharacter(code):
        return f"{label} (noncharacter)"
    if unicodedata.category(char) == "Cs":
        return f"{label} (lone surrogate)"
    return f"{label} (control character)"


def refused_text_error(index: int, char: str, field: str | None = None) -> InvalidInput:
    """The ``INVALID_CHARACTERS`` error for ``char`` at ``index`` (0-based) of the field's text."""
    what = describe(char)
    return InvalidInput(
        INVALID_CHARACTERS,
        f"Character {index + 1} is {what}, an invisible control, byte-order-mark or text-direction "
        "character that can make a printed document read differently from its data; remove it.",
        f"第 {index + 1} 個字元為 {what}，屬於不可見的控制、BOM 或文字方向字元，"
        "會使列印的文件與資料內容不一致，請移除。",
        field,
    )


def printable_text(value: str, field: str | None = None) -> str:
    """``value`` unchanged when it has no refused character (see the module docstring), else
    ``InvalidInput`` ``INVALID_CHARACTERS`` naming ``field``, the position and the code point."""
    found = first_refused(value)
    if found is not None:
        raise refused_text_error(*found, field)
    return value
