"""Telling organs (机关) apart in one line of text: how many organs an addressee names.

A 请示 is sent to one higher organ (条例 第十五条). “县委、县政府” or “中共伊吾县委员会、伊吾县人民政府”
typed on one line names two, so an addressee is split on the list separators 、，, and on 和/及/与
where both sides read as organs (a name ending in an organ word such as 委员会, 政府, 局, or one the
settings list) — “住房和城乡建设局” stays one organ because “住房” is no organ — and two organ names
the settings know written together (“县委县政府”) count as two.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_LIST = re.compile(r"[、，,；;/]")
_AND = re.compile(r"[和及与]")


def _organ_settings(settings: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    organs = settings["official"]["organs"]
    return tuple(organs["known"]), tuple(organs["suffixes"])


def reads_as_organ(text: str, known: tuple[str, ...], suffixes: tuple[str, ...]) -> bool:
    text = text.strip()
    return bool(text) and (text in known or text.endswith(suffixes))


def split_organs(text: str, settings: Mapping[str, Any]) -> list[str]:
    """The organs named in `text`, in order (one item when it names one)."""
    known, suffixes = _organ_settings(settings)
    parts = [p.strip() for p in _LIST.split(text) if p.strip()]
    out: list[str] = []
    for part in parts:
        out.extend(_split_and(part, known, suffixes))
    return [piece for part in out for piece in _split_known(part, known)]


def _split_and(part: str, known: tuple[str, ...], suffixes: tuple[str, ...]) -> list[str]:
    """“县委和县政府” → two organs; “住房和城乡建设局” → one."""
    for match in _AND.finditer(part):
        left, right = part[:match.start()], part[match.end():]
        if reads_as_organ(left, known, suffixes) and reads_as_organ(right, known, suffixes):
            return [left.strip(), *_split_and(right, known, suffixes)]
    return [part]


def _split_known(part: str, known: tuple[str, ...]) -> list[str]:
    """“县委县政府” → [“县委”, “县政府”] when the whole is two or more known names end to end."""
    if part in known:
        return [part]
    for name in sorted(known, key=len, reverse=True):
        if part.startswith(name) and len(part) > len(name):
            rest = _split_known(part[len(name):], known)
            if all(r in known for r in rest):
                return [name, *rest]
    return [part]
