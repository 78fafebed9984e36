"""绩效信息公开 batches through the batch runner: units from stored submissions (and from a JSON
file), exclusions with their reasons in the index, one PDF per published unit naming only its own
unit, idempotent restarts, invalid units reported in Chinese while the others finish, and the
HTTP and command-line paths."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import subprocess
import zipfile

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from jobs import files, runner
from jobs.batchkinds import disclosure as batch_disclosure
from kinds import get as kinds_get
from service.cli import main
from storage.batches import Batch, BatchItem
from tests.conftest import load_sample, login
from tests.jobs.helpers import batch_zip, wait_done

YEAR = 2023


def unit_name(i: int) -> str:
    # Zero-padded: no unit's name is part of another's (第01号 is not in 第11号).
    return f"青溪县第{i:02d}号预算单位"


def unit_code(i: int) -> str:
    return f"U{i:03d}"


def store_units(db, count: int, *, no_report: tuple[int, ...] = (), bad_table: tuple[int, ...] = (),
                department: tuple[int, ...] = ()) -> None:
    """For each unit: a Unit row, its submitted `disclosure` document (the report) and one approved
    `self_evaluation` table of a project of its own; drafts and other years must not count."""
    from storage.models import Submission, Unit

    report = load_sample("disclosure")["report"]
    table = load_sample("self_evaluation")
    dept = load_sample("department_self_evaluation")
    with db.write() as session:
        for i in range(1, count + 1):
            name = unit_name(i)
            unit = Unit(code=unit_code(i), name=name)
            session.add(unit)
            session.flush()

            def add(kind, data, status="submitted", unit_id=unit.id):
                sub = Submission(kind=kind, unit_id=unit_id, status=status, title=kind)
                sub.data = data
                session.add(sub)

            if i not in no_report:
                body = report["body"].replace("青溪县水利局", name)
                add("disclosure", {"year": YEAR, "unit": name, "unit_code": unit_code(i),
                                   "report": {"title": "", "body": body}})
            project = {**copy.deepcopy(table), "project_name": f"{name}专项工程", "department": name,
                       "implementing_unit": name}
            if i in bad_table:
                project["project_name"] = ""
            add("self_evaluation", project, status="approved")
            if i in department:
                add("department_self_evaluation", {**copy.deepcopy(dept), "unit": name, "unit_code": unit_code(i)})
            # neither a draft nor another year's table is published
            add("self_evaluation", {**copy.deepcopy(table), "project_name": f"{name}草稿项目"}, status="draft")
            add("self_evaluation", {**copy.deepcopy(table), "year": YEAR - 1, "project_name": f"{name}上年项目"})


def zip_of(db, cfg, batch, tmp_path) -> zipfile.ZipFile:
    return batch_zip(db, cfg, batch, tmp_path / "公开.zip")


def pdf_pages(data: bytes) -> list[str]:
    """Text of each page (pdftotext: much faster than pypdf on CJK), whitespace removed."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return [re.sub(r"\s", "", page) for page in out.stdout.decode("utf-8").split("\f") if page.strip()]


def manifest(z: zipfile.ZipFile) -> list[list[str]]:
    return list(csv.reader(io.StringIO(z.read(files.MANIFEST).decode("utf-8-sig"))))


def index_rows(z: zipfile.ZipFile) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(z.read(batch_disclosure.INDEX_XLSX))).worksheets[0]
    table = list(sheet.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(table) if r[0] == "序号")
    return table[header + 1:]


EXCLUDED = {unit_code(7): "涉密", unit_code(19): "与主管部门合并公开"}


def test_thirty_stored_units_two_excluded(job_db, job_config, tmp_path):
    store_units(job_db, 30, department=(3,))
    cfg = runner.JobConfig(**{**job_config.__dict__, "processes": 2, "lease_seconds": 60})
    exclusions, errors = batch_disclosure.parse_exclusions(
        "\n".join(f"{code} {reason}" for code, reason in EXCLUDED.items()))
    assert not errors
    imported = batch_disclosure.from_stored(job_db, YEAR, exclusions)
    assert not imported.fatal and not imported.errors and len(imported.units) == 30
    batch, created = batch_disclosure.start(job_db, imported, source="stored")
    assert created and batch.total == 30 and batch.title == "2023年度绩效信息公开"
    assert runner.drive(job_db, cfg, batch) is True
    state = runner.counts(job_db, batch.id)
    assert (state["done"], state["excluded"], state["invalid"], state["failed"]) == (28, 2, 0, 0)

    z = zip_of(job_db, cfg, batch, tmp_path)
    names = z.namelist()
    assert names[:3] == ["目录.xlsx", "目录.html", "清单.csv"]
    pdfs = [n for n in names if n.endswith(".pdf")]
    assert len(pdfs) == 28 and len(names) == 31
    assert pdfs[0] == f"各单位/{unit_code(1)}_{unit_name(1)}.pdf"
    assert not any(code in n for n in pdfs for code in EXCLUDED)
    all_names = {unit_code(i): unit_name(i) for i in range(1, 31)}
    for member in pdfs:
        code = member.split("/")[1].split("_")[0]
        data = z.read(member)
        reader = PdfReader(io.BytesIO(data))
        pages = pdf_pages(data)
        text = "".join(pages)
        assert len(pages) == len(reader.pages) >= 2
        assert all_names[code] in text, member
        assert not [n for c, n in all_names.items() if c != code and n in text], member
        # the unit's name on every page, and bookmarks for the report and its table(s)
        for page in pages:
            assert all_names[code] in page, member
        top = [b.title for b in reader.outline if not isinstance(b, list)]
        assert top[0] == f"{all_names[code]}{YEAR}年度部门整体支出绩效自评报告"
        assert f"项目支出绩效自评表（{all_names[code]}专项工程）" in top
        assert "草稿项目" not in text and "上年项目" not in text
    dept_pdf = PdfReader(io.BytesIO(z.read(f"各单位/{unit_code(3)}_{unit_name(3)}.pdf")))
    assert f"{unit_name(3)}部门整体支出绩效自评表" in [b.title for b in dept_pdf.outline if not isinstance(b, list)]

    rows = index_rows(z)
    assert [r[1] for r in rows] == [unit_code(i) for i in range(1, 31)]
    excluded = {r[1]: (r[3], r[5], r[6], r[7]) for r in rows if r[3] == "否"}
    assert excluded == {code: ("否", None, "", reason) for code, reason in EXCLUDED.items()}
    published = [r for r in rows if r[3] == "是"]
    assert len(published) == 28 and all(r[5] >= 2 for r in published)
    assert published[0][6] == f"各单位/{unit_code(1)}_{unit_name(1)}.pdf"
    page = z.read(batch_disclosure.INDEX_HTML).decode("utf-8")
    assert f'<a href="各单位/{unit_code(2)}_{unit_name(2)}.pdf">' in page
    assert "<td>涉密</td>" in page and "<td>与主管部门合并公开</td>" in page
    lines = manifest(z)
    assert lines[0] == batch_disclosure.MANIFEST_HEADER and len(lines) == 31
    assert [r[3] for r in lines[1:]].count("不予公开") == 2 and lines[7][7] == "涉密"
    summary = runner.get_batch(job_db, batch.public_id).summary
    assert summary["text"].startswith("共30家单位：生成公开文件28家（共") and "不予公开2家。" in summary["text"]

    # The same batch again: same key, no new batch or item, nothing rendered twice.
    again, created_again = batch_disclosure.start(job_db, batch_disclosure.from_stored(job_db, YEAR, exclusions),
                                                  source="stored")
    assert not created_again and again.id == batch.id
    outputs = sorted(p.name for p in files.units_dir(cfg.data_dir, batch.public_id).iterdir())
    assert runner.drive(job_db, cfg, again) is True
    with job_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1
        items = list(session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id)))
    assert len(items) == 30 and sum(i.attempts for i in items) == 30
    assert sorted(p.name for p in files.units_dir(cfg.data_dir, batch.public_id).iterdir()) == outputs == sorted(
        n.split("/")[1] for n in pdfs)
    # other exclusions are another batch
    other, created_other = batch_disclosure.start(
        job_db, batch_disclosure.from_stored(job_db, YEAR, {unit_code(7): "涉密"}), source="stored")
    assert created_other and other.id != batch.id


def test_invalid_units_are_reported_and_the_others_finish(job_db, job_config, tmp_path):
    store_units(job_db, 4, no_report=(2,), bad_table=(3,))
    imported = batch_disclosure.from_stored(job_db, YEAR, {unit_code(4): "涉密", "X999": "涉密"})
    assert imported.errors == ["不公开单位“X999”在2023年度的单位中找不到，已忽略。"]
    batch, _ = batch_disclosure.start(job_db, imported, source="stored")
    assert runner.drive(job_db, job_config, batch)
    state = runner.counts(job_db, batch.id)
    assert (state["done"], state["invalid"], state["excluded"]) == (1, 2, 1)
    with job_db.read() as session:
        items = {i.unit_code: i for i in session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id))}
    assert items[unit_code(2)].errors == [
        f"未找到本单位已提交（或已审核）的{YEAR}年度部门整体支出绩效自评报告（“绩效自评结果公开文件”），请单位填报并提交后重新生成。"]
    assert items[unit_code(3)].errors == [f"单位“{unit_code(3)} {unit_name(3)}”：第1张项目支出绩效自评表，项目名称：不能为空。"]
    z = zip_of(job_db, job_config, batch, tmp_path)
    assert [n for n in z.namelist() if n.endswith(".pdf")] == [f"各单位/{unit_code(1)}_{unit_name(1)}.pdf"]
    lines = manifest(z)
    assert [r[3] for r in lines[1:5]] == ["已生成", "填报有误", "填报有误", "不予公开"]
    assert "项目名称：不能为空" in lines[3][7]
    assert lines[5][3] == "未导入" and "X999" in lines[5][7]
    # the index lists published and excluded units only; the invalid ones are in the manifest
    assert [(r[1], r[3]) for r in index_rows(z)] == [(unit_code(1), "是"), (unit_code(4), "否")]
    assert "另有2家单位材料有误或生成失败" in runner.get_batch(job_db, batch.public_id).summary["text"]


def test_exclusion_lists_are_checked():
    found, errors = batch_disclosure.parse_exclusions(
        "399001 涉密\n# 注释\n\n399002，与主管部门合并公开\n399003\n39/9 涉密\n399001 重复")
    assert found == {"399001": "涉密", "399002": "与主管部门合并公开"}
    assert errors == ["不公开单位第5行“399003”：请按“单位编码 原因”填写，如“399001 涉密”。",
                      "不公开单位第6行：单位编码“39/9”只能含字母、数字、下划线和连字符（最多30个字符）。",
                      "不公开单位第7行：单位编码“399001”重复。"]
    assert batch_disclosure.parse_exclusions([{"unit_code": "1", "reason": "涉密"}, ["2", "涉密"]])[0] == {
        "1": "涉密", "2": "涉密"}
    assert batch_disclosure.parse_exclusions({"1": ""})[1] == ["不公开单位第1行“1”：请按“单位编码 原因”填写，如“399001 涉密”。"]


def payloads(count: int) -> list[dict]:
    base = load_sample("disclosure")
    units = []
    for i in range(1, count + 1):
        data = copy.deepcopy(base)
        data.update(unit=unit_name(i), unit_code=unit_code(i))
        units.append(data)
    return units


def test_json_payloads_report_bad_entries():
    units = payloads(2)
    units.append({**units[0]})  # the same code again
    units.append({"year": YEAR})
    units.append("青溪县")
    imported = batch_disclosure.from_payloads(units)
    assert [u.code for u in imported.units] == [unit_code(1), unit_code(2)] and imported.year == YEAR
    assert imported.errors == ["第3个单位的单位编码“U001”与第1个重复，未导入。",
                               "第4个单位没有单位编码（unit_code）和单位名称（unit），未导入。",
                               "第5个单位不是JSON对象，未导入。"]
    assert batch_disclosure.from_payloads({"year": YEAR}).fatal == [batch_disclosure.Messages.not_a_list]


# --------------------------------------------------------------------------- HTTP


@pytest.fixture
def bureau(app, world):
    app.config["JOB_PROCESSES"] = 1  # render in the runner's thread: no process pool in tests
    app.config["JOB_LEASE_SECONDS"] = 30
    return login(app, world, "bureau")




def test_http_start_progress_download(app, world, bureau):
    store_units(app.extensions["jxdoc.db"], 3)
    resp = bureau.post("/api/v1/batches", json={"kind": "disclosure", "year": YEAR,
                                                 "exclusions": [{"unit_code": unit_code(2), "reason": "涉密"}]})
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    # the world's two units filed nothing: they are in scope, listed as 未提交材料
    assert body["kind"] == "disclosure" and body["total"] == 5 and body["year"] == YEAR and body["format"] == "pdf"
    assert resp.headers["Location"].endswith(body["id"])
    done = wait_done(bureau, body["id"])
    # 未提交材料, a status of its own: not 填报有误 (nothing was filed to be wrong)
    assert (done["counts"]["done"], done["counts"]["excluded"], done["counts"]["missing"],
            done["counts"]["invalid"]) == (2, 1, 2, 0)
    assert done["percent"] == 100
    assert done["summary_text"].startswith("共5家单位：生成公开文件2家") and "目录" in done["contents"]
    assert done["summary_text"].endswith("；2家单位未提交材料。") and "材料有误" not in done["summary_text"]
    download = bureau.get(done["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert int(download.headers["Content-Length"]) == len(download.data)
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    z = zipfile.ZipFile(io.BytesIO(download.data))
    assert sorted(n for n in z.namelist() if n.endswith(".pdf")) == [
        f"各单位/{unit_code(1)}_{unit_name(1)}.pdf", f"各单位/{unit_code(3)}_{unit_name(3)}.pdf"]
    assert [r[7] for r in index_rows(z)] == ["", "涉密", ""]
    items = bureau.get(f"/api/v1/batches/{body['id']}/items").get_json()["items"]
    assert [i["status_label"] for i in items] == ["未提交材料", "未提交材料", "已生成", "不予公开", "已生成"]
    assert [i["status"] for i in items[:2]] == ["missing", "missing"]
    assert all(i["errors"] == [batch_disclosure.Messages.no_material.format(year=YEAR)] for i in items[:2])
    silent = [r for r in manifest(z)[1:] if r[3] == "未提交材料"]
    assert [r[1] for r in silent] == [i["unit"]["code"] for i in items[:2]]
    assert all(r[4] == "" and r[7].startswith("未提交材料：") for r in silent)  # no file, the reason
    assert bureau.get(f"/api/v1/batches/{body['id']}/items?status=missing").get_json()["items"] == items[:2]
    page = bureau.get(f"/batches/{body['id']}").get_data(as_text=True)
    assert "未提交材料 2" in page and "填报有误 0" in page
    assert page.count("<td>未提交材料</td>") == 2

    # the same form post again (HTML, textarea) is the same batch
    again = bureau.post("/batches", data={"kind": "disclosure", "year": str(YEAR), "exclusions": f"{unit_code(2)} 涉密"})
    assert again.status_code == 303 and again.headers["Location"].endswith(body["id"])
    page = bureau.get(again.headers["Location"]).get_data(as_text=True)
    assert "不予公开 1" in page and "下载zip（各单位公开文件（PDF）、目录和清单）" in page and "生成情况" in page
    assert "绩效信息公开" in bureau.get("/batches").get_data(as_text=True)

    # a unit clerk may neither start, nor read, nor download a batch
    clerk = login(app, world, "clerk_a")
    assert clerk.post("/api/v1/batches", json={"kind": "disclosure", "year": YEAR}).status_code == 403
    assert clerk.get(f"/api/v1/batches/{body['id']}").status_code == 403
    assert clerk.get(f"/batches/{body['id']}/download").status_code == 403
    assert clerk.get("/batches").status_code == 403
    assert bureau.get("/api/v1/batches/nonexistent/download").status_code == 404


def test_http_json_upload_and_errors(app, bureau):
    data = json.dumps(payloads(2), ensure_ascii=False).encode()
    resp = bureau.post("/api/v1/batches", data={"kind": "disclosure", "exclusions": f"{unit_code(2)} 涉密",
                                                "file": (io.BytesIO(data), "公开材料.json")},
                       content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["title"] == "公开材料" and body["year"] == YEAR
    done = wait_done(bureau, body["id"])
    assert (done["counts"]["done"], done["counts"]["excluded"]) == (1, 1)

    bad = bureau.post("/api/v1/batches", json={"kind": "disclosure", "year": "二〇二三", "exclusions": "U001"})
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == {"year": ["年度“二〇二三”不对，应为2000年至2100年之间的年份。"],
                                        "exclusions": ["不公开单位第1行“U001”：请按“单位编码 原因”填写，如“399001 涉密”。"]}
    empty = bureau.post("/api/v1/batches", json={"kind": "disclosure", "year": 2031})
    assert empty.status_code == 422 and empty.get_json()["errors"]["year"] == ["没有可生成的单位：2031年度没有已提交或已审核的自评材料。"]
    wrong = bureau.post("/batches", data={"kind": "disclosure", "year": "2023", "file": (io.BytesIO(b"x"), "a.xlsx")},
                        content_type="multipart/form-data")
    assert wrong.status_code == 422 and "只能上传 .json 文件" in wrong.get_data(as_text=True)
    broken = bureau.post("/api/v1/batches", data={"kind": "disclosure", "file": (io.BytesIO(b"[{"), "a.json")},
                         content_type="multipart/form-data")
    assert broken.status_code == 422 and broken.get_json()["errors"]["file"][0].startswith("文件不是有效的JSON")


# --------------------------------------------------------------------------- command line


def test_cli_disclosure_from_json_and_resume(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("JXDOC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("JXDOC_DATABASE_URL", raising=False)
    monkeypatch.setenv("JXDOC_JOB_PROCESSES", "1")
    units = payloads(3)
    units[2]["project_evaluations"][0]["project_name"] = ""
    source = tmp_path / "units.json"
    source.write_text(json.dumps(units, ensure_ascii=False), encoding="utf-8")
    excluded = tmp_path / "不公开.txt"
    excluded.write_text(f"{unit_code(2)} 涉密\n", encoding="utf-8")
    out = tmp_path / "公开.zip"
    args = ["batch", "disclosure", str(source), "-o", str(out), "--exclude-file", str(excluded)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "已导入3家单位" in result.output and "共3家单位：生成公开文件1家" in result.output
    assert f"单位“{unit_code(3)} {unit_name(3)}”：第1张项目支出绩效自评表，项目名称：不能为空。" in result.output
    z = zipfile.ZipFile(out)
    assert [n for n in z.namelist() if n.endswith(".pdf")] == [f"各单位/{unit_code(1)}_{unit_name(1)}.pdf"]
    again = runner.invoke(main, args)
    assert again.exit_code == 0 and "继续此前未完成的批次" in again.output and "已完成3/3" in again.output
    bad = runner.invoke(main, ["batch", "disclosure", str(source), "-o", str(out), "--exclude", "U002"])
    assert bad.exit_code == 1 and "不公开单位名单有误" in bad.output
    no_year = runner.invoke(main, ["batch", "disclosure", "-o", str(out)])
    assert no_year.exit_code == 1 and "请填写年度" in no_year.output
    stored = runner.invoke(main, ["batch", "disclosure", "--year", "2023", "-o", str(out)])
    assert stored.exit_code == 1 and "2023年度没有已提交或已审核的自评材料" in stored.output


def test_stored_normalised_documents_are_published(job_db, job_config):
    """A `disclosure` document stored in its normalised form — its tables holding the computed
    `scoring` and `flagged` blocks, as the service stored them — re-validates in the batch and is
    published (issue 15: it was refused with “scoring/flagged：不认识的字段”)."""
    from kinds import pipeline
    from rules.settings import defaults
    from storage.models import Submission, Unit, dumps

    kind = kinds_get("disclosure")
    data = pipeline.validate(kind, load_sample("disclosure"), defaults())
    stored = json.loads(dumps(kind.schema_instance(settings=defaults()).dump(data)))
    assert {"scoring", "flagged"} <= set(stored["project_evaluations"][0])
    with job_db.write() as session:
        unit = Unit(code=stored["unit_code"], name=stored["unit"])
        session.add(unit)
        session.flush()
        sub = Submission(kind="disclosure", unit_id=unit.id, status="approved", title="公开")
        sub.data = stored
        session.add(sub)
    imported = batch_disclosure.from_stored(job_db, YEAR, {})
    assert not imported.fatal and not imported.errors and len(imported.units) == 1
    batch, _ = batch_disclosure.start(job_db, imported, source="stored")
    assert runner.drive(job_db, job_config, batch) is True
    state = runner.counts(job_db, batch.id)
    assert (state["done"], state["invalid"], state["failed"]) == (1, 0, 0)
    with job_db.read() as session:
        (item,) = session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id))
    assert item.errors in (None, [])


def test_summary_statistics_take_publication_from_the_stored_batches(job_db, job_config):
    """The yearly summary reads who published from the disclosure batches' results."""
    from rules.statistics import compute
    from storage.records import load_units

    store_units(job_db, 3)
    assert compute(load_units(job_db, YEAR)).disclosure.units == 0  # no batch yet: nothing known
    imported = batch_disclosure.from_stored(job_db, YEAR, {unit_code(2): "涉密"})
    batch, _ = batch_disclosure.start(job_db, imported, source="stored")
    assert runner.drive(job_db, job_config, batch) is True
    stats = compute(load_units(job_db, YEAR)).disclosure
    assert (stats.units, stats.required, stats.published, stats.unknown) == (3, 2, 2, 0)
    assert stats.excluded == ((unit_name(2), "涉密"),)


def test_http_disclosure_batch_as_ofd(app, bureau):
    """The disclosure batch's format option: one OFD per published unit, read by an independent
    OFD reader, with the unit's name on its pages; an unknown format is refused by name."""
    import ofdkit

    data = json.dumps(payloads(2), ensure_ascii=False).encode()
    resp = bureau.post("/api/v1/batches", data={"kind": "disclosure", "format": "ofd",
                                                "file": (io.BytesIO(data), "公开材料.json")},
                       content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_json()
    done = wait_done(bureau, resp.get_json()["id"])
    assert done["counts"]["done"] == 2
    z = zipfile.ZipFile(io.BytesIO(bureau.get(f"/api/v1/batches/{resp.get_json()['id']}/download").data))
    units = sorted(n for n in z.namelist() if n.startswith("各单位/"))
    assert units == [f"各单位/{unit_code(i)}_{unit_name(i)}.ofd" for i in (1, 2)]
    from kinds import pipeline

    same_pdf = pipeline.render("disclosure", pipeline.validate("disclosure", payloads(1)[0]), "pdf")
    with ofdkit.open(z.read(units[0])) as document:
        assert len(document.pages) == len(PdfReader(io.BytesIO(same_pdf)).pages)
        assert all(unit_name(1) in page.text() for page in document.pages)
        assert unit_name(2) not in document.text()
    wrong = bureau.post("/api/v1/batches", json={"kind": "disclosure", "year": YEAR, "format": "docx"})
    assert wrong.status_code == 422 and wrong.get_json()["errors"]["format"] == ["公开文件格式只能是 pdf 或 ofd。"]
