"""Issue 7 acceptance: a unit clerk and the finance bureau work one 项目支出绩效目标申报表 through
the real pages in Chromium — sign in, fill (with the 指标库 autocomplete), errors beside the
fields, draft, submit, 退回修改 with a comment, fix, resubmit, 已审核, downloads — and another
unit's clerk cannot see it. Key pages are screenshotted and their Chinese text checked.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from PIL import Image

from tests.browser.conftest import forget_http_error

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

PROJECT = "青溪县2025年乡村医生岗位能力提升培训项目"
COMMENT = "年度目标未写明培训覆盖的乡镇数，请补充后再提交。"
FIXED_GOAL = "目标4：培训覆盖全县16个乡镇。"
CJK = re.compile(r"[\u4e00-\u9fff]")


def screenshot(page, path: Path, *texts: str, full_page: bool = True) -> str:
    """Take the page's screenshot, check it is a real picture, and return the page's text at
    that moment after checking that every one of `texts` is in it."""
    page.screenshot(path=str(path), full_page=full_page)
    text = page.inner_text("body")
    for expected in texts:
        assert expected in text, f"{expected!r} not on the page {page.url}:\n{text[:2000]}"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width > 800, image.size
        colours = image.convert("RGB").getcolors(maxcolors=4096)
        assert colours is None or len(colours) > 1, "the screenshot is one flat colour"
    return text


def next_to(page, selector: str) -> str:
    """The text of the element right after `selector` (the error beside an input)."""
    return page.eval_on_selector(selector, "el => el.nextElementSibling ? el.nextElementSibling.textContent : ''")


def form_errors(page) -> dict[str, str]:
    """Every error shown on a form page, by the name of its input (for failure messages)."""
    return page.eval_on_selector_all(
        ".field-error, .notice.bad",
        "els => Object.fromEntries(els.map((e, i) => [(e.id || 'notice-' + i), e.textContent]))")


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def status_of(page) -> str:
    return page.inner_text("#status").strip()


def xml_text(archive: zipfile.ZipFile, member: str) -> str:
    """The character data of one XML part (entities decoded; runs joined)."""
    return "".join(ElementTree.fromstring(archive.read(member)).itertext())


def document_text(data: bytes, ext: str) -> str:
    """The text of a downloaded docx or xlsx: a valid zip whose main part is there and parses."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        if ext == "docx":
            return xml_text(archive, "word/document.xml")
        xml_text(archive, "xl/workbook.xml")
        parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"]
        assert parts, archive.namelist()
        return "".join(xml_text(archive, n) for n in parts if n.endswith(".xml"))


def check_download(page, label: str, ext: str) -> str:
    """Click a 下载 link: a Chinese file name, and a document that names the project."""
    with page.expect_download() as info:
        page.get_by_role("link", name=label, exact=True).click()
    download = info.value
    assert download.failure() is None
    name = download.suggested_filename
    assert name.endswith(f".{ext}") and CJK.search(name), name
    assert PROJECT in name, name
    text = document_text(Path(download.path()).read_bytes(), ext)
    assert PROJECT in text, f"{PROJECT} not in the {ext}"
    return text


def test_clerk_and_bureau_work_one_declaration(actor, live_server, tmp_path):
    clerk = actor("clerk_a")

    # --- fill: the sample prefills the form, the project name is typed --------------------------
    clerk.goto("/forms/target_declaration?sample=1")
    assert clerk.inner_text("h1") == "项目支出绩效目标申报表"
    name_input = clerk.locator("#f-project_name")
    name_input.fill("")
    funds = clerk.locator("#f-annual_funds-total")
    funds.fill("")
    funds.press_sequentially("六十二")  # not a number: refused on submit

    # --- one indicator from the 指标库: type a keyword, click a suggestion -------------------------
    annual = clerk.locator('fieldset[data-path="indicators.annual"]')
    rows_before = annual.locator(":scope > .rows > .row").count()
    annual.get_by_role("button", name="添加年度绩效指标").click()
    prefix = f"indicators.annual.{rows_before}."
    indicator = clerk.locator(f'input[name="{prefix}name"]')
    indicator.press_sequentially("培训班")
    suggestion = clerk.locator("ul.suggestions li", has_text="举办培训班期数")
    suggestion.wait_for()
    indicator.evaluate("el => el.scrollIntoView({block: 'center'})")  # clear of the sticky buttons
    screenshot(clerk, tmp_path / "form-suggestions.png", "举办培训班期数", "≥4期", "三级指标", full_page=False)
    box = clerk.locator("ul.suggestions").bounding_box()
    assert box["width"] > 300, box  # a drop-down as wide as the input, not a bare list
    suggestion.click()
    expect_values = {"name": "举办培训班期数", "level1": "产出指标", "level2": "数量指标", "operator": "≥",
                     "target_value": "4", "measure_unit": "期"}
    for field, value in expect_values.items():
        assert clerk.locator(f'[name="{prefix}{field}"]').input_value() == value, field  # input or select
    assert clerk.locator(f'input[name="{prefix}explanation"]').input_value()  # an empty explanation is filled
    assert clerk.locator("ul.suggestions").count() == 0  # the list closes after the pick

    # --- an invalid submit: the Chinese errors stand beside their fields -------------------------
    click_and_wait(clerk, clerk.get_by_role("button", name="提交", exact=True))
    text = screenshot(clerk, tmp_path / "form-errors.png", "提交的内容有误，请按红色提示修改后再试。",
                      "项目名称", "资金总额（万元）", "不能为空。", "“资金总额（万元）”应填金额数字，例如1234.56；读到的是“六十二”。")
    assert clerk.url.endswith("/forms/target_declaration")
    forget_http_error(clerk, 422, "/forms/target_declaration")
    assert next_to(clerk, "#f-project_name") == "不能为空。"
    assert clerk.get_attribute("#f-project_name", "aria-invalid") == "true"
    money_field = clerk.locator("#f-annual_funds-total").locator("xpath=..")
    assert money_field.locator("p.field-error").inner_text() == "“资金总额（万元）”应填金额数字，例如1234.56；读到的是“六十二”。"
    assert "has-error" in money_field.get_attribute("class")
    assert clerk.get_attribute("#f-annual_funds-total", "aria-describedby") == "f-annual_funds-total-error"
    assert "年度绩效指标" in text
    assert clerk.locator(f'input[name="{prefix}name"]').input_value() == "举办培训班期数"  # kept

    # --- fix, save a draft, submit ------------------------------------------------------------------
    clerk.locator("#f-project_name").press_sequentially(PROJECT)
    clerk.locator("#f-annual_funds-total").fill("62.50")
    click_and_wait(clerk, clerk.get_by_role("button", name="保存草稿", exact=True))
    assert "draft=" in clerk.url and "saved=save" in clerk.url
    assert "草稿已保存。" in clerk.inner_text("main")
    assert clerk.locator(".field-error").count() == 0
    assert clerk.locator("#f-project_name").input_value() == PROJECT
    assert clerk.locator(f'input[name="{prefix}name"]').input_value() == "举办培训班期数"

    click_and_wait(clerk, clerk.get_by_role("button", name="提交", exact=True))
    match = re.search(r"/submissions/([^/?#]+)$", clerk.url)
    assert match, (clerk.url, form_errors(clerk))
    sub_url = f"/submissions/{match.group(1)}"
    assert "已提交，等待审核。" in clerk.inner_text("main")
    assert status_of(clerk) == "已提交"
    assert clerk.inner_text("h1") == PROJECT

    # The PDF preview answers a PDF for the clerk (same cookies as the page).
    preview = clerk.context.request.get(f"{sub_url}/preview.pdf")
    assert preview.status == 200
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.body().startswith(b"%PDF")
    frame = clerk.locator("iframe.pdf")
    assert frame.get_attribute("src") == f"{sub_url}/preview.pdf"
    size = frame.bounding_box()
    assert size["width"] > 600 and size["height"] > 400, size  # big enough to read the page

    # --- the finance bureau returns it with a comment ----------------------------------------------
    bureau = actor("bureau")
    bureau.goto("/submissions")
    assert bureau.inner_text("h1") == "待审核"
    click_and_wait(bureau, bureau.get_by_role("link", name=PROJECT, exact=True))
    assert bureau.url.endswith(sub_url)
    bureau.locator("#comment").press_sequentially(COMMENT)
    screenshot(bureau, tmp_path / "bureau-review.png", PROJECT, "审核", "审核意见", "审核通过", "退回修改",
               "办理记录", "青溪县第一中学", "已提交")
    click_and_wait(bureau, bureau.get_by_role("button", name="退回修改", exact=True))
    assert "已退回修改，意见已发送给填报单位。" in bureau.inner_text("main")
    assert status_of(bureau) == "退回修改"

    # --- the clerk reads the comment, fixes, resubmits ------------------------------------------------
    clerk.goto(sub_url)
    screenshot(clerk, tmp_path / "returned-with-comment.png", f"审核意见：{COMMENT}", "退回修改", PROJECT, "修改")
    assert status_of(clerk) == "退回修改"
    assert COMMENT in clerk.inner_text(".history")
    click_and_wait(clerk, clerk.get_by_role("link", name="修改", exact=True))
    goal = clerk.locator("#f-annual_goal")
    goal.press("End")
    goal.press_sequentially("\n" + FIXED_GOAL)
    click_and_wait(clerk, clerk.get_by_role("button", name="提交", exact=True))
    assert clerk.url.endswith(sub_url)
    assert status_of(clerk) == "已提交"

    # --- the bureau approves and downloads ------------------------------------------------------------
    bureau.goto(sub_url)
    assert status_of(bureau) == "已提交"
    click_and_wait(bureau, bureau.get_by_role("button", name="审核通过", exact=True))
    assert "已审核通过。" in bureau.inner_text("main")
    assert status_of(bureau) == "已审核"
    assert bureau.locator("section.review").count() == 0  # nothing left to review
    docx = check_download(bureau, "下载 DOCX", "docx")
    assert "培训覆盖全县16个乡镇" in docx and "举办培训班期数" in docx  # the fix and the picked indicator
    xlsx = check_download(bureau, "下载 XLSX", "xlsx")
    assert "项目支出绩效目标申报表" in xlsx and "举办培训班期数" in xlsx
    bureau.reload()
    assert "下载" in bureau.inner_text(".history")

    clerk.goto(sub_url)
    assert status_of(clerk) == "已审核"
    assert clerk.get_by_role("link", name="修改", exact=True).count() == 0

    # --- another unit's clerk: 404 and not in the list ------------------------------------------------
    other = actor("clerk_b")
    response = other.goto(sub_url)
    assert response.status == 404
    forget_http_error(other, 404, sub_url)
    other.goto("/submissions")
    assert PROJECT not in other.inner_text("main")
    assert other.locator(f'a[href="{sub_url}"]').count() == 0

    for page in (clerk, bureau, other):
        assert page.js_errors == [], page.js_errors
