"""File names built from what users typed (titles, unit names and codes): one rule for download
headers, zip members and batch outputs.

A name must not escape a directory or break a header (separators, control characters, leading
dots), must not read differently from what it is (bidi controls such as U+202E turn `报告‮fdp.exe`
into `报告exe.pdf` on screen; every Unicode format character goes), and must not be a Windows device
name (`AUX.docx`, `com1.pdf` cannot be saved or extracted there), so those get a leading `_`.
"""

from __future__ import annotations

import re
import unicodedata

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
# CON, PRN, AUX, NUL, COM0-9, LPT0-9 (with the superscript digits Windows also reserves), whatever
# follows the first dot: `LPT9.tar.docx` is reserved as well.
_RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?")


def _visible(text: str) -> str:
    """`text` without format characters (category Cf: bidi embeddings, overrides and isolates,
    zero-width joiners, BOM) and other controls."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc"))


def safe_stem(base: str, limit: int = 80, default: str = "document") -> str:
    """`base` as the part of a file name before its extension."""
    name = _visible(_UNSAFE.sub("_", base)).strip(" ._")
    name = re.sub(r"\.{2,}", ".", name)[:limit].rstrip(" .") or default
    if _RESERVED.fullmatch(name):
        name = "_" + name
    return name


def safe_filename(base: str, fmt: str, limit: int = 80) -> str:
    """A file name that cannot escape a directory, break a header or mislead; Chinese kept."""
    return f"{safe_stem(base, limit)}.{fmt}"
