"""Titles broken between words (GB/T 9704-2012 7.3.1, 词意完整) into symmetric lines."""

import jieba
import pytest

from generators.gongwen.model import break_title, text_width

TITLES = [
    "青溪县财政局关于贯彻落实省委省政府17号文件全面推进预算绩效管理工作的实施意见",
    "关于印发《青溪县项目支出绩效评价管理实施细则》的通知",
    "青溪县财政局关于上报《青溪县2024年度全面实施预算绩效管理工作总结报告》的请示",
    "关于开展2024年度部门整体支出和项目支出绩效自评及结果公开工作的通知",
    "青溪县人民政府办公室关于进一步加强财政资金绩效运行监控和评价结果应用的意见",
]


@pytest.mark.parametrize("title", TITLES)
def test_breaks_fall_between_words_and_lines_are_symmetric(title):
    lines = break_title(title, 22)
    assert "".join(lines) == title and len(lines) >= 2
    ends, at = set(), 0
    for word in jieba.lcut(title):
        at += len(word)
        ends.add(at)
    at = 0
    for line in lines[:-1]:
        at += len(line)
        assert at in ends, (title, lines)  # no word cut in two
    widths = [text_width(line) for line in lines]
    assert max(widths) <= 22 and max(widths) - min(widths) <= 4, lines


def test_the_issue_title_keeps_全面_whole():
    lines = break_title("青溪县财政局关于贯彻落实省委省政府17号文件全面推进预算绩效管理工作的实施意见", 22)
    assert not any(a.endswith("全") and b.startswith("面") for a, b in zip(lines, lines[1:], strict=False))
