"""Signing and verification through the web app and the API: the administrator registers a
seal, the finance bureau signs a stored 公文, the signed file's SHA-256 lands in the audit log, and
anyone — signed in or not — verifies it on the public page or through the API."""

from __future__ import annotations

import io
import subprocess

from tests.conftest import load_sample
from tests.signing.conftest import PASSWORD
from tests.signing.test_sign_verify import changed_byte


def register_form(client, cert, image, password=PASSWORD, organ="青溪县财政局"):
    return client.post("/admin/seals", data={
        "organ": organ, "key_kind": "pkcs12", "password": password,
        "seal_image": (io.BytesIO(image), "印章.png"), "p12": (io.BytesIO(cert.p12(PASSWORD)), "财政局.p12"),
    }, content_type="multipart/form-data")


def test_admin_registers_a_seal_and_never_sees_the_key_again(admin_client, bureau_cert, seal_image, app):
    bad = register_form(admin_client, bureau_cert, b"not a png")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "印章图片应为PNG格式" in page and 'value="青溪县财政局"' in page  # typed values kept
    assert PASSWORD not in page

    done = register_form(admin_client, bureau_cert, seal_image)
    assert done.status_code == 302
    listing = admin_client.get("/admin/seals").get_data(as_text=True)
    assert "青溪县财政局" in listing and "证书文件（PKCS#12）" in listing
    assert PASSWORD not in listing
    audit = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "登记印章" in audit


def test_only_admin_registers(bureau_client, bureau_cert, seal_image):
    assert register_form(bureau_client, bureau_cert, seal_image).status_code == 403


def test_bureau_signs_stored_document_and_anyone_verifies_it(app, world, admin_client, bureau_client, anon_client,
                                                             bureau_cert, seal_image, tmp_path):
    assert register_form(admin_client, bureau_cert, seal_image).status_code == 302
    data = load_sample("request")
    stored = bureau_client.post("/api/v1/submissions", json={"kind": "request", "data": data, "action": "submit"})
    assert stored.status_code == 201, stored.get_json()
    doc_id = stored.get_json()["id"]

    page = bureau_client.get(f"/submissions/{doc_id}").get_data(as_text=True)
    assert "签章并下载 PDF" in page
    signed = bureau_client.post(f"/submissions/{doc_id}/signed.pdf", data={"pdfa": "1"})
    assert signed.status_code == 200 and signed.mimetype == "application/pdf"
    pdf = signed.get_data()
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in report and "Total document signed" in report
    assert b"pdfaid" in pdf or b"/OutputIntents" in pdf

    import hashlib

    digest = hashlib.sha256(pdf).hexdigest()
    history = bureau_client.get(f"/api/v1/submissions/{doc_id}/history").get_json()
    assert any(e["action"] == "sign" for e in history["events"])
    audit = admin_client.get("/admin/audit").get_data(as_text=True)
    assert digest in audit and "签章" in audit

    shown = anon_client.post("/verify", data={"file": (io.BytesIO(pdf), "请示.pdf")},
                             content_type="multipart/form-data")
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "签名有效" in text and "青溪县财政局" in text and digest in text
    assert data["title"] in text and "bureau" in text  # the stored document and who signed it

    answer = anon_client.post("/api/v1/verify", data=pdf, content_type="application/pdf").get_json()
    assert answer["valid"] is True and answer["sha256"] == digest
    assert answer["signatures"][0]["organ"] == "青溪县财政局"
    assert answer["records"][0]["by"] == "bureau"

    tampered = anon_client.post("/api/v1/verify", data=changed_byte(pdf), content_type="application/pdf").get_json()
    assert tampered["valid"] is False and "签名无效" in tampered["summary"]
    assert tampered["records"] == []


def test_clerk_cannot_sign_and_sees_no_sign_action(app, world, client, admin_client, bureau_cert, seal_image):
    assert register_form(admin_client, bureau_cert, seal_image).status_code == 302
    denied = client.post("/api/v1/documents/request?format=pdf&sign=1", json=load_sample("request"))
    assert denied.status_code == 403
    assert "只有财政局和管理员可以签章" in denied.get_json()["message"]


def test_api_signs_on_render_and_says_when_no_seal_is_registered(bureau_client, admin_client, bureau_cert, seal_image):
    missing = bureau_client.post("/api/v1/documents/notice?format=pdf&sign=1", json=load_sample("notice"))
    assert missing.status_code == 422
    assert "没有登记印章" in missing.get_json()["message"]
    assert register_form(admin_client, bureau_cert, seal_image).status_code == 302
    signed = bureau_client.post("/api/v1/documents/notice?format=pdf&sign=1", json=load_sample("notice"))
    assert signed.status_code == 200 and b"/ByteRange" in signed.get_data()
    wrong = bureau_client.post("/api/v1/documents/notice?format=docx&sign=1", json=load_sample("notice"))
    assert wrong.status_code == 422 and "format" in wrong.get_json()["errors"]


def test_verify_page_refuses_what_is_not_a_pdf(anon_client):
    answer = anon_client.post("/verify", data={"file": (io.BytesIO(b"hello"), "a.txt")}, content_type="multipart/form-data")
    assert answer.status_code == 422 and "不是PDF" in answer.get_data(as_text=True)
    unsigned = anon_client.post("/api/v1/verify", data=b"%PDF-1.7\n%%EOF", content_type="application/pdf").get_json()
    assert unsigned["valid"] is False
