"""Issue 16, finding 3: a 2.5 MB xlsx holding 7.5 million shared strings, posted by any clerk to a
form import, grew a worker to 1.2 GB (openpyxl reads every shared string into a list before the
first cell). The package scan now counts the strings and bounds the part's size while it streams
it, and refuses the file before openpyxl opens it."""

from __future__ import annotations

import io
import random
import zipfile

import pytest

from generators.tables import reader


def _bomb(strings: int) -> bytes:
    """A valid-looking workbook whose one sheet is empty and whose sharedStrings part holds
    `strings` short entries: small compressed, enormous as Python objects."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="{rel}"><sheets>'
            '<sheet name="申报表" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"),
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}"><sheetData/></worksheet>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        with z.open("xl/sharedStrings.xml", "w") as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{ns}" count="{strings}" '
                     f'uniqueCount="{strings}">'.encode())
            # a random choice per string: deflate cannot fold long runs, so the ratio stays
            # below the zip-bomb check (as in the reported file: 2.5 MB for 7.5 million strings)
            rng = random.Random(16)
            variants = [b"<si><t/></si>", b"<si><t>a</t></si>", b"<si><t>b</t></si>", b"<si><t>c</t></si>"]
            block = b"".join(rng.choices(variants, k=100_000))  # repeated beyond deflate's 32 KB window
            for start in range(0, strings, 100_000):
                fh.write(block if strings - start >= 100_000 else b"".join(rng.choices(variants, k=strings - start)))
            fh.write(b"</sst>")
    return buf.getvalue()


@pytest.fixture
def no_openpyxl(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("openpyxl must not open a refused file")

    monkeypatch.setattr(reader, "load_workbook", refuse)


def test_the_reported_bomb_is_refused_before_openpyxl(no_openpyxl):
    data = _bomb(7_500_000)
    assert len(data) < 20 * 1024 * 1024  # under the upload limit, and under the zip-bomb ratio
    with pytest.raises(reader.XlsxImportError) as exc:
        reader.inspect_package(data)
    assert "共享字符串" in exc.value.message and "100000" in exc.value.message


def test_a_form_import_answers_400_naming_the_limit(client, no_openpyxl):
    resp = client.post("/api/v1/forms/target_declaration/import", data=_bomb(300_000),
                       content_type="application/octet-stream")
    assert resp.status_code == 400
    assert "共享字符串" in resp.get_json()["message"]


def test_the_shared_strings_part_is_bounded_in_size_too(no_openpyxl):
    # few strings, each huge: the part's inflated size is the bound
    limits = reader.Limits(max_shared_strings_bytes=256 * 1024)
    with zipfile.ZipFile(io.BytesIO(_bomb(10_000))) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(b"<t/>", b"<t>" + b"x" * 200 + b"</t>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    with pytest.raises(reader.XlsxImportError) as exc:
        reader.inspect_package(buf.getvalue(), limits)
    assert "共享字符串" in exc.value.message


def test_a_workbook_below_the_limits_passes_the_scan():
    stats = reader.inspect_package(_bomb(20_000))
    assert "xl/worksheets/sheet1.xml" in stats
