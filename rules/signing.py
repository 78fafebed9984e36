"""Checks of the "signing" settings section (rules/defaults/signing.toml): signature level,
timestamp server, batch options, seal measures and upload limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

LEVELS = ("B-B", "B-T")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def validate_settings(section: Mapping[str, Any]) -> list[str]:
    """Chinese messages for a bad "signing" settings section."""
    problems: list[str] = []
    signature = section.get("signature") or {}
    level = signature.get("level")
    if level not in LEVELS:
        problems.append("signature.level：签名级别应为 B-B 或 B-T。")
    url = str(signature.get("timestamp_url") or "")
    if url and urlsplit(url).scheme not in ("http", "https"):
        problems.append("signature.timestamp_url：时间戳服务地址应以 http:// 或 https:// 开头。")
    if level == "B-T" and not url:
        problems.append("signature.timestamp_url：B-T 级别需要设置时间戳服务地址。")
    for key in ("sign", "pdfa"):
        if not isinstance((section.get("batches") or {}).get(key), bool):
            problems.append(f"batches.{key}：应为 true 或 false。")
    seal = section.get("seal") or {}
    diameter = _number(seal.get("diameter_mm"))
    if diameter is None or not 20 <= diameter <= 60:
        problems.append("seal.diameter_mm：印章直径应在20至60毫米之间。")
    below = _number(seal.get("date_below_centre_mm"))
    if below is None or diameter is not None and not 0 <= below < diameter / 2:
        problems.append("seal.date_below_centre_mm：成文日期应在印章中心以下、印章半径以内。")
    if _number(seal.get("horizontal_offset_mm")) is None:
        problems.append("seal.horizontal_offset_mm：应为毫米数。")
    gap = _number(seal.get("joint_gap_mm"))
    if gap is None or gap <= 0:
        problems.append("seal.joint_gap_mm：联合行文的印章之间应留出大于0毫米的间隔（不得相交或相切）。")
    upload = section.get("upload") or {}
    low, high, kb = (_number(upload.get(k)) for k in ("min_px", "max_px", "max_kb"))
    if low is None or high is None or not 0 < low <= high:
        problems.append("upload.min_px / max_px：印章图片的最小、最大像素应为正数且最小不大于最大。")
    if kb is None or kb <= 0:
        problems.append("upload.max_kb：印章图片大小上限应为正数。")
    return problems
