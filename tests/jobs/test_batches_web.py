"""Batches over HTTP (upload → job → progress → download) and on the command line."""

from __future__ import annotations

import io
import zipfile

import pytest

from jobs.samples import batch_workbook
from service.cli import main
from tests.conftest import login
from tests.jobs.helpers import wait_done


@pytest.fixture
def bureau(app, world):
    app.config["JOB_PROCESSES"] = 1  # render in the runner's thread: no process pool in tests
    app.config["JOB_LEASE_SECONDS"] = 5
    return login(app, world, "bureau")


def _upload(client, data: bytes, url: str = "/api/v1/batches", **fields):
    form = {"kind": "monitoring", "file": (io.BytesIO(data), "监控汇总.xlsx"), **fields}
    return client.post(url, data=form, content_type="multipart/form-data")




def test_api_upload_progress_download(bureau):
    data = batch_workbook(6, seed=8).data
    resp = _upload(bureau, data)
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["total"] == 6 and body["period"] == "1-6月" and body["kind_name"] == "项目支出绩效目标执行监控表"
    assert resp.headers["Location"].endswith(body["id"])
    done = wait_done(bureau, body["id"])
    assert done["percent"] == 100 and done["counts"]["done"] == 6
    assert done["summary_text"].startswith("截至2024年6月")
    download = bureau.get(done["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert int(download.headers["Content-Length"]) == len(download.data)
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    z = zipfile.ZipFile(io.BytesIO(download.data))
    assert z.testzip() is None and len([n for n in z.namelist() if n.startswith("各单位/")]) == 6
    # the same upload again is the same batch
    again = _upload(bureau, data)
    assert again.get_json()["id"] == body["id"]
    items = bureau.get(f"/api/v1/batches/{body['id']}/items").get_json()["items"]
    assert [i["status"] for i in items] == ["done"] * 6 and items[0]["file"].startswith("各单位/")


def test_monitoring_batch_as_ofd(bureau):
    """format=ofd: each unit's monitoring table as an OFD package an independent reader opens,
    naming its own unit."""
    import ofdkit

    resp = _upload(bureau, batch_workbook(2, seed=3).data, format="ofd")
    assert resp.status_code == 202, resp.get_json()
    done = wait_done(bureau, resp.get_json()["id"])
    assert done["counts"]["done"] == 2
    z = zipfile.ZipFile(io.BytesIO(bureau.get(done["download_url"]).data))
    units = [n for n in z.namelist() if n.startswith("各单位/")]
    assert len(units) == 2 and all(n.endswith(".ofd") for n in units)
    items = bureau.get(f"/api/v1/batches/{resp.get_json()['id']}/items").get_json()["items"]
    for item in items:
        with ofdkit.open(z.read(item["file"])) as document:
            assert document.pages and "项目支出绩效目标执行监控表" in document.text()


def test_upload_errors_are_422_in_chinese(bureau):
    resp = _upload(bureau, b"not a workbook")
    assert resp.status_code == 422
    assert resp.get_json()["errors"]["file"] == ["文件不是有效的 Excel（.xlsx）文件。请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。"]
    resp = _upload(bureau, batch_workbook(2).data, kind="request", format="odt")
    errors = resp.get_json()["errors"]
    assert resp.status_code == 422 and set(errors) == {"kind", "format"}
    assert errors["kind"] == ["请选择可批量生成的文档：项目支出绩效目标执行监控表、部门整体支出绩效目标执行监控表。"]


def test_only_the_bureau_runs_batches(app, world, bureau):
    clerk = login(app, world, "clerk_a")
    assert _upload(clerk, batch_workbook(2).data).status_code == 403
    assert clerk.get("/batches").status_code == 403
    assert app.test_client().get("/api/v1/batches/x").status_code == 401
    assert bureau.get("/api/v1/batches/nonexistent").status_code == 404


def test_html_flow(bureau):
    page = bureau.get("/batches")
    assert page.status_code == 200 and "批量生成监控表" in page.get_data(as_text=True)
    resp = _upload(bureau, batch_workbook(3, seed=2).data, url="/batches", area="青溪县")
    assert resp.status_code == 303
    location = resp.headers["Location"]
    public_id = location.rsplit("/", 1)[1]
    wait_done(bureau, public_id)
    html = bureau.get(location).get_data(as_text=True)
    assert "下载zip" in html and "截至2024年6月" in html and 'value="100"' in html
    assert bureau.get(f"{location}/download").status_code == 200
    bad = _upload(bureau, b"", url="/batches")
    assert bad.status_code == 422 and "工作簿无法导入" in bad.get_data(as_text=True)


def test_cli_batch_and_resume(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("JXDOC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("JXDOC_DATABASE_URL", raising=False)
    monkeypatch.setenv("JXDOC_JOB_PROCESSES", "1")
    source = tmp_path / "批量.xlsx"
    source.write_bytes(batch_workbook(5, seed=3, with_parameters=False).data)
    out = tmp_path / "out.zip"
    result = runner.invoke(main, ["batch", "monitoring", str(source), "-o", str(out)])
    assert result.exit_code == 1 and "请填写年度" in result.output
    args = ["batch", "monitoring", str(source), "-o", str(out), "--year", "2024", "--period", "1至9月"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "已导入5家单位" in result.output and "截至2024年9月" in result.output
    assert zipfile.ZipFile(out).testzip() is None
    again = runner.invoke(main, args)
    assert again.exit_code == 0 and "继续此前未完成的批次" in again.output and "已完成5/5" in again.output
    result = runner.invoke(main, ["batch", "monitoring_summary", str(source), "-o", str(out)])
    assert result.exit_code == 2 and "不能批量生成" in result.output
