"""Custom docx templates: checked at upload, rendered in a Jinja sandbox in a subprocess with a
time limit (issue 9, item 3)."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from tests.conftest import login


def _docx(*paragraphs: str) -> bytes:
    from docx import Document

    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _upload(client, content: bytes, name="测试模板", kind="request"):
    # Encoded in memory: Werkzeug's test client spools a body over 500 KB to a temporary file it
    # never closes, which would surface as a ResourceWarning in a later test.
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart({"kind": kind, "name": name,
                                       "file": FileStorage(io.BytesIO(content), "t.docx")})
    return client.post("/admin/templates", data=body, content_type=f"multipart/form-data; boundary={boundary}")


SSTI = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"


def test_valid_template_renders_with_autoescape(app, world):
    from tests.service.test_authz_matrix import Ctx

    admin = login(app, world, "admin")
    resp = _upload(admin, _docx("标题：{{ title }}", "{% for a in addressees %}{{ a }}；{% endfor %}"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    pid = Ctx(app, world).submission()
    from storage.models import Submission

    with app.extensions["jxdoc.db"].write() as session:
        sub = session.query(Submission).filter_by(public_id=pid).one()
        data = sub.data
        data["title"] = "关于</w:t></w:r><w:r><w:t>注入的请示"
        sub.data = data
    clerk = login(app, world, "clerk_a")
    page = clerk.get(f"/submissions/{pid}").get_data(as_text=True)
    assert "按模板“测试模板”下载" in page
    import re

    url = re.search(r'href="(/submissions/[^"]+/template/[^"]+\.docx)"', page).group(1)
    resp = clerk.get(url)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        xml = zf.read("word/document.xml").decode()
    assert "关于&lt;/w:t&gt;&lt;/w:r&gt;&lt;w:r&gt;&lt;w:t&gt;注入的请示" in xml
    assert "XX市人民政府；" in xml or "；" in xml


def test_ssti_payload_is_refused_at_upload(app, world):
    admin = login(app, world, "admin")
    resp = _upload(admin, _docx(SSTI))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "模板使用了“请示”没有的变量：cycler" in html
    assert "模板不能访问以下划线开头的属性：__init__" in html or "__globals__" in html
    from storage.models import DocTemplate

    with app.extensions["jxdoc.db"].read() as session:
        assert session.query(DocTemplate).count() == 0


@pytest.mark.parametrize("payload", [
    SSTI,
    "{{ title.__class__.__mro__[1].__subclasses__() }}",
    "{{ title|attr('__class__') }}",
    "{{ self._TemplateReference__context }}",
    "{{ addressees.append(1) }}{{ addressees.pop() }}",
])
def test_payloads_cannot_execute_at_render(app, payload):
    """Even a template stored past the upload check (say, by an older version) cannot escape."""
    from service import doctemplates
    from service.errors import ApiError

    with app.app_context():
        try:
            out = doctemplates.render(_docx(payload), {"title": "t", "addressees": ["a"]})
        except ApiError as exc:
            assert "SecurityError" in exc.message or "Undefined" in exc.message or "unsafe" in exc.message, exc.message
            return
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        xml = zf.read("word/document.xml").decode()
    assert "uid=" not in xml and "subclass" not in xml


def test_endless_loops_are_stopped(app, monkeypatch):
    from service import doctemplates
    from service.errors import ApiError

    monkeypatch.setattr(doctemplates, "TIMEOUT_SECONDS", 3)
    with app.app_context():
        with pytest.raises(ApiError) as info:
            doctemplates.render(_docx("{% for i in range(10**12) %}{{ i }}{% endfor %}"), {})
        assert "OverflowError" in info.value.message or "range" in info.value.message
        start = time.monotonic()
        with pytest.raises(ApiError) as info:
            doctemplates.render(_docx("{% for i in range(99999) %}{% for j in range(99999) %}{% for k in range(99999) %}"
                                      "{% endfor %}{% endfor %}{% endfor %}"), {})
        assert time.monotonic() - start < 10
        assert info.value.message == doctemplates.Messages.timeout.replace("10", "10") or "终止" in info.value.message


@pytest.mark.parametrize(("content", "message"), [
    (b"", "请选择要上传的docx模板文件。"),
    (b"not a zip at all", "这不是有效的docx文件"),
    (b"PK" + b"\0" * (3 * 1024 * 1024), "模板文件不能超过2MB。"),
])
def test_bad_files_are_refused(app, world, content, message):
    resp = _upload(login(app, world, "admin"), content)
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)


def test_entities_and_includes_are_refused(app, world):
    admin = login(app, world, "admin")
    good = _docx("{{ title }}")
    src = zipfile.ZipFile(io.BytesIO(good))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
            out.writestr(info, data)
    resp = _upload(admin, buf.getvalue())
    assert resp.status_code == 422 and "DTD或实体声明" in resp.get_data(as_text=True)
    resp = _upload(admin, _docx("{% include 'x' %}"))
    assert resp.status_code == 422 and "模板不能引用其他模板" in resp.get_data(as_text=True)


def _docx_with_properties(**properties: str) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph("标题：{{ title }}")
    for name, value in properties.items():
        setattr(doc.core_properties, name, value)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("prop", ["title", "subject", "author", "comments", "identifier", "language"])
def test_jinja_in_core_properties_is_refused_at_upload(app, world, prop):
    """Issue 16, finding 14: docxtpl renders these properties too; the upload check read only the
    body, headers and footers."""
    admin = login(app, world, "admin")
    resp = _upload(admin, _docx_with_properties(**{prop: SSTI}))
    assert resp.status_code == 422
    assert "文档属性" in resp.get_data(as_text=True)
    resp = _upload(admin, _docx_with_properties(**{prop: "{% for i in range(9) %}x{% endfor %}"}))
    assert resp.status_code == 422


def test_plain_core_properties_pass_and_are_kept_as_written(app, world):
    from service import doctemplates

    content = _docx_with_properties(title="关于{经费}的请示", author="县财政局")
    with app.app_context():
        problems, _ = doctemplates.check_upload(__import__("kinds").get("request"), content)
        assert problems == {}
        rendered = doctemplates.render(content, {"title": "关于经费的请示"})
    from docx import Document

    props = Document(io.BytesIO(rendered)).core_properties
    assert (props.title, props.author) == ("关于{经费}的请示", "县财政局")

