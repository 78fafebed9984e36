import pytest

from kinds.pipeline import safe_filename
from service.downloads import content_disposition


@pytest.mark.parametrize("base, expected", [
    ("关于上报《2024年度总结报告》的请示", "关于上报《2024年度总结报告》的请示.docx"),
    ("../../etc/passwd", "etc_passwd.docx"),
    ("a/b\\c", "a_b_c.docx"),
    ("单位\r\nSet-Cookie: x=1", "单位_Set-Cookie_ x=1.docx"),
    ("..", "document.docx"),
    ("", "document.docx"),
])
def test_safe_filename(base, expected):
    assert safe_filename(base, "docx") == expected


def test_content_disposition_has_ascii_fallback_and_rfc5987():
    header = content_disposition("关于2024年的请示.docx")
    assert header == ("attachment; filename=\"2024.docx\"; "
                      "filename*=UTF-8''%E5%85%B3%E4%BA%8E2024%E5%B9%B4%E7%9A%84%E8%AF%B7%E7%A4%BA.docx")
    assert content_disposition("请示.pdf", inline=True).startswith('inline; filename="document.pdf"')


def test_content_disposition_never_carries_crlf_or_quotes():
    header = content_disposition('x"\r\nInjected: 1.docx')
    assert "\r" not in header and "\n" not in header
    assert header.count('"') == 2
