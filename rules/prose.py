"""Running text of documents: heading numbers written the standard way, no placeholders left.

GB/T 9704-2012 7.3.3 numbers headings 一、 → （一） → 1. → （1）, with full-width brackets. A
half-width or mixed bracket (“(三)”, “(一）”, “（2)”) is the same heading typed carelessly: it is
rewritten to the full-width form, since a heading not recognised as one is silently set as body
text. “1、” is rewritten to “1.” or refused, per settings (prose.headings.number_comma).
Placeholders (“X个”, “X万元”, “××”) left in a submitted text are refused: a filed document must
not say “增加X个”. Both read settings from rules/defaults/prose.toml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from rules.settings_files import defaults

SECTION = "prose"
_BRACKETED = re.compile(r"^(\s*)[(（]\s*([一二三四五六七八九十百]+|\d+)\s*[)）]", re.MULTILINE)
_NUMBER_COMMA = re.compile(r"^(\s*)(\d+)、", re.MULTILINE)


def section(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (settings if settings is not None and SECTION in settings else defaults())[SECTION]


def normalise_headings(text: str, settings: Mapping[str, Any] | None = None) -> str:
    """“(三)”/“(一）”/“（2)” at the start of a line → “（三）”/“（一）”/“（2）”; “1、” → “1.” when the
    settings say normalise."""
    text = _BRACKETED.sub(lambda m: f"{m.group(1)}（{m.group(2)}）", text)
    if section(settings)["headings"]["number_comma"] == "normalise":
        text = _NUMBER_COMMA.sub(lambda m: f"{m.group(1)}{m.group(2)}.", text)
    return text


def heading_problems(text: str, settings: Mapping[str, Any] | None = None) -> list[str]:
    """Messages for headings the settings refuse (“1、” when number_comma = refuse)."""
    if section(settings)["headings"]["number_comma"] != "refuse":
        return []
    found = [m.group(2) for m in _NUMBER_COMMA.finditer(text)]
    if not found:
        return []
    return [f"三级标题应写成“{found[0]}.”（阿拉伯数字加下脚点），不写“{found[0]}、”（GB/T 9704-2012 7.3.3）。"]


@lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def placeholders(text: str, settings: Mapping[str, Any] | None = None) -> list[str]:
    """The placeholders left in `text`, each with a little context, in order."""
    patterns = tuple(section(settings)["placeholders"]["patterns"])
    if not patterns:
        return []
    out = []
    for match in _compiled(patterns).finditer(text):
        start, end = match.start(), match.end()
        out.append(text[max(0, start - 6):end + 4].replace("\n", " ").strip())
    return out


def placeholder_message(found: list[str]) -> str:
    shown = "”“".join(found[:3])
    more = f"等{len(found)}处" if len(found) > 3 else ""
    return f"还有未填写的占位内容：“{shown}”{more}，请改为实际内容后再提交。"


def validate_settings(values: Mapping[str, Any]) -> list[str]:
    problems = []
    headings = values.get("headings")
    if not isinstance(headings, Mapping) or headings.get("number_comma") not in ("normalise", "refuse"):
        problems.append("headings.number_comma只能是“normalise”（改为“1.”）或“refuse”（拒绝）。")
    patterns = (values.get("placeholders") or {}).get("patterns") if isinstance(values.get("placeholders"), Mapping) else None
    if not isinstance(patterns, list | tuple) or not all(isinstance(p, str) for p in patterns):
        problems.append("placeholders.patterns应为一组正则表达式。")
    else:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"placeholders.patterns中的“{pattern}”不是有效的正则表达式：{exc}。")
    return problems
