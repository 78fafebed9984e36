"""The jxdoc command: kinds, sample, render (format from the extension), errors write nothing."""

from __future__ import annotations

import json
import zipfile

import pytest

import kinds
from service.cli import main
from tests.conftest import load_sample

OFFICIAL = ["request", "report", "opinion", "notice", "letter"]


def test_kinds(runner):
    result = runner.invoke(main, ["kinds"])
    assert result.exit_code == 0
    for kind in kinds.all_kinds():
        assert kind.id in result.output and kind.name in result.output
    data = json.loads(runner.invoke(main, ["kinds", "--json"]).output)
    assert data[0]["id"] == kinds.all_kinds()[0].id


def test_sample_prints_valid_json(runner):
    result = runner.invoke(main, ["sample", "request"])
    assert result.exit_code == 0
    assert json.loads(result.output) == load_sample("request")


def test_unknown_kind_lists_known(runner):
    result = runner.invoke(main, ["sample", "nope"])
    assert result.exit_code == 2
    assert "没有“nope”这种文档" in result.output and "request" in result.output


@pytest.mark.parametrize("kind_id", OFFICIAL)
@pytest.mark.parametrize("ext", ["docx", "pdf", "ofd"])
def test_render_every_sample(runner, tmp_path, kind_id, ext):
    for sample in kinds.get(kind_id).samples():
        out = tmp_path / f"{sample.stem}.{ext}"
        result = runner.invoke(main, ["render", kind_id, str(sample), "-o", str(out)])
        assert result.exit_code == 0, result.output
        data = out.read_bytes()
        assert data[:4] == (b"%PDF" if ext == "pdf" else b"PK\x03\x04")
        if ext == "ofd":
            with zipfile.ZipFile(out) as package:
                assert package.namelist()[0] == "OFD.xml" and "Doc_0/Document.xml" in package.namelist()


@pytest.mark.parametrize("kind_id", OFFICIAL)
def test_invalid_samples_fail_with_their_errors_and_write_nothing(runner, tmp_path, kind_id):
    invalid = kinds.get(kind_id).invalid_samples()
    assert len(invalid) >= 3
    for path in invalid:
        case = json.loads(path.read_text(encoding="utf-8"))
        src = tmp_path / "input.json"
        src.write_text(json.dumps(case["input"]), encoding="utf-8")  # ASCII escapes keep lone surrogates
        out = tmp_path / "out.docx"
        result = runner.invoke(main, ["render", kind_id, str(src), "-o", str(out)])
        assert result.exit_code == 1, path.name
        assert "输入有误，未生成文件" in result.output
        for field, messages in case["expected_errors"].items():
            for message in messages:
                assert f"{field}：{message}" in result.output, (path.name, field, message)
        assert not out.exists()
        assert list(tmp_path.iterdir()) == [src]  # no temporary file left either


def test_wrong_extension(runner, tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(load_sample("request"), ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(main, ["render", "request", str(src), "-o", str(tmp_path / "x.odt")])
    assert result.exit_code == 2 and "不能生成 .odt 文件" in result.output


def test_bad_json_input(runner, tmp_path):
    src = tmp_path / "in.json"
    src.write_text("{oops", encoding="utf-8")
    result = runner.invoke(main, ["render", "request", str(src), "-o", str(tmp_path / "x.docx")])
    assert result.exit_code == 2 and "不是有效的JSON" in result.output
