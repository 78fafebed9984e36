"""The disclosure batch signs every unit's PDF (a bureau setting, or `--sign`) with the default
organ's registered key, and writes PDF/A-2b (`--pdfa`): every file in the zip is valid for
pdfsig and for jxdoc verify."""

from __future__ import annotations

import json
import subprocess
import zipfile

from service.cli import main
from tests.jobs.test_disclosure_batch import payloads


def test_signed_pdfa_disclosure_batch(runner, tmp_path, monkeypatch, data_dir, registered, settings):
    from generators.signing import verify_pdf
    from storage import seals

    monkeypatch.delenv("JXDOC_DATABASE_URL", raising=False)
    monkeypatch.setenv("JXDOC_JOB_PROCESSES", "1")
    source = tmp_path / "units.json"
    source.write_text(json.dumps(payloads(3), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "公开.zip"
    result = runner.invoke(main, ["batch", "disclosure", str(source), "-o", str(out), "--sign", "--pdfa"])
    assert result.exit_code == 0, result.output
    registered_certs = seals.registered_certificates(data_dir)
    with zipfile.ZipFile(out) as z:
        pdfs = [n for n in z.namelist() if n.endswith(".pdf")]
        assert len(pdfs) == 3
        for name in pdfs:
            pdf = z.read(name)
            verdict = verify_pdf(pdf, registered_certs)
            assert verdict.ok, (name, verdict.summary())
            assert verdict.signatures[0].organ == "青溪县财政局"
            assert b"/OutputIntents" in pdf and b"/GTS_PDFA1" in pdf
            path = tmp_path / "unit.pdf"
            path.write_bytes(pdf)
            report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
            assert "Signature is Valid." in report and "Total document signed" in report


def test_signing_batch_without_a_registered_organ_reports_each_unit(runner, tmp_path, monkeypatch, data_dir):
    monkeypatch.delenv("JXDOC_DATABASE_URL", raising=False)
    monkeypatch.setenv("JXDOC_JOB_PROCESSES", "1")
    source = tmp_path / "units.json"
    source.write_text(json.dumps(payloads(1), ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(main, ["batch", "disclosure", str(source), "-o", str(tmp_path / "z.zip"), "--sign"])
    assert "未能签章：还没有登记任何发文机关的印章和签名证书" in result.output


def test_web_batch_refuses_to_start_signing_without_a_seal(app, world):
    from service.database import get_db
    from storage.models import SavedSettings
    from tests.conftest import login

    with app.app_context(), get_db(app).write() as session:
        session.add(SavedSettings(section="signing", values_json=json.dumps({"batches": {"sign": True}})))
    bureau = login(app, world, "bureau")
    answer = bureau.post("/api/v1/batches", json={"kind": "disclosure", "units": payloads(1)})
    assert answer.status_code == 422
    assert "没有登记任何发文机关" in answer.get_json()["errors"]["sign"][0]


def test_web_signing_batch_files_verify_with_who_started_it(app, world, bureau_cert, seal_image, settings):
    import io

    from service.database import get_db
    from storage import seals
    from storage.models import SavedSettings
    from tests.conftest import login
    from tests.jobs.helpers import wait_done
    from tests.signing.conftest import PASSWORD

    seals.register(app.config["DATA_DIR"], "青溪县财政局", seal_image, settings, p12=bureau_cert.p12(PASSWORD),
                   password=PASSWORD)
    with app.app_context(), get_db(app).write() as session:
        session.add(SavedSettings(section="signing", values_json=json.dumps({"batches": {"sign": True}})))
    app.config["JOB_PROCESSES"] = 1  # render in the runner's thread: no process pool in tests
    bureau = login(app, world, "bureau")
    started = bureau.post("/api/v1/batches", json={"kind": "disclosure", "units": payloads(2)})
    assert started.status_code == 202, started.get_json()
    done = wait_done(bureau, started.get_json()["id"])
    assert done["counts"]["done"] == 2
    z = zipfile.ZipFile(io.BytesIO(bureau.get(done["download_url"]).data))
    pdf = z.read(next(n for n in z.namelist() if n.endswith(".pdf")))
    answer = app.test_client().post("/api/v1/verify", data=pdf, content_type="application/pdf").get_json()
    assert answer["valid"] is True
    (record,) = answer["records"]
    assert record["by"] == "bureau" and "青溪县财政局" in record["comment"]
    assert payloads(2)[0]["unit"] in record["document"]
