"""The OpenAPI document, generated from the same marshmallow schemas that validate requests."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

import kinds
from forms import fields as jf
from storage.models import Submission

ERROR_ENVELOPE = {
    "type": "object",
    "required": ["code", "status", "message", "errors", "error_count", "warnings"],
    "properties": {
        "code": {"type": "integer"},
        "status": {"type": "string"},
        "message": {"type": "string", "description": "中文错误说明"},
        "errors": {
            "type": "object",
            "description": "字段路径 → 中文错误信息列表",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "error_count": {"type": "integer", "description": "错误总数（errors 只列出前100处）"},
        "warnings": {"type": "array", "description": "需要核对确认的数字（在提交内容的 confirmations 中按 key 确认）",
                     "items": {"$ref": "#/components/schemas/Warning"}},
    },
}

WARNING = {
    "type": "object",
    "required": ["key", "path", "code", "message", "confirmed", "explanation"],
    "properties": {
        "key": {"type": "string", "description": "确认时使用的编号：字段路径:类别"},
        "path": {"type": "string", "description": "字段路径"},
        "code": {"type": "string", "enum": ["over_budget", "magnitude", "rate_change", "rate_fell"]},
        "message": {"type": "string", "description": "中文提示"},
        "confirmed": {"type": "boolean"},
        "explanation": {"type": "string", "description": "填报人的说明"},
    },
}


class KindSummary(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    group = fields.String(required=True)
    formats = fields.List(fields.String(), required=True)
    description = fields.String()


class SubmissionOut(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String()
    status = fields.String(required=True)
    status_label = fields.String()
    data = fields.Dict()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


PDF_OPTIONS = [
    {"name": "pdfa", "in": "query", "required": False, "description": "1：生成PDF/A-2b（仅PDF）",
     "schema": {"type": "string", "enum": ["0", "1"]}},
    {"name": "sign", "in": "query", "required": False,
     "description": "1：用已登记的印章和证书签章（仅PDF；财政局和管理员）", "schema": {"type": "string", "enum": ["0", "1"]}},
]


def _responses(ok: dict) -> dict:
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    out = dict(ok)
    for code, text in (("400", "请求有误"), ("404", "不存在"), ("413", "内容过大"), ("422", "字段错误")):
        out.setdefault(code, {"description": text, **err})
    return out


def build_spec() -> dict:
    plugin = MarshmallowPlugin()
    spec = APISpec(title="jxdoc 预算绩效管理文书服务", version="1", openapi_version="3.0.3", plugins=[plugin])
    plugin.map_to_openapi_type(jf.Money, "string", "decimal")
    plugin.map_to_openapi_type(jf.ChineseDate, "string", "date")
    spec.components.schema("Warning", WARNING)
    spec.components.schema("ErrorEnvelope", ERROR_ENVELOPE)
    spec.components.schema("KindSummary", schema=KindSummary)
    spec.components.schema("Submission", schema=SubmissionOut)
    spec.path(
        path="/api/v1/kinds",
        operations={"get": {"summary": "文档种类列表", "responses": {"200": {
            "description": "所有文档种类",
            "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/KindSummary"}}}},
        }}}},
    )
    for kind in kinds.all_kinds():
        name = "".join(p.capitalize() for p in kind.id.split("_")) + "Input"
        spec.components.schema(name, schema=kind.schema)
        ref = {"$ref": f"#/components/schemas/{name}"}
        mimes = {kinds.MIME_TYPES[f].split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for f in kind.formats}
        spec.path(
            path=f"/api/v1/documents/{kind.id}",
            operations={"post": {
                "summary": f"生成{kind.name}",
                "description": kind.description,
                "parameters": [{"name": "format", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": list(kind.formats), "default": kind.formats[0]}},
                               *(PDF_OPTIONS if "pdf" in kind.formats else [])],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                "responses": _responses({
                    "200": {"description": "文档文件（Content-Disposition 带中文文件名）", "content": mimes},
                    "413": {"description": "PDF超过单次请求的页数上限（RENDER_MAX_PAGES）：改用 …/jobs 后台生成",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}},
                    "429": {"description": "本人同时生成的文档或1小时内在线生成的页数已达上限",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}},
                }),
            }},
        )
        spec.path(
            path=f"/api/v1/documents/{kind.id}/jobs",
            operations={"post": {
                "summary": f"后台生成{kind.name}（不受单次请求页数上限限制）",
                "parameters": [{"name": "format", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": list(kind.formats), "default": kind.formats[0]}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                "responses": _responses({"202": {
                    "description": "任务已开始；Location 为任务地址（GET /api/v1/document-jobs/{id}），"
                                   "完成后 download_url 下载文档文件"}}),
            }},
        )
        spec.path(
            path=f"/api/v1/documents/{kind.id}/validate",
            operations={"post": {
                "summary": f"校验{kind.name}",
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                "responses": _responses({"200": {
                    "description": "校验通过：data 为规范化后的数据，computed 为计算出的得分、比率、合计和等级，"
                                   "warnings 为需要核对确认的数字",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["data", "computed", "warnings"],
                        "properties": {"data": {"type": "object"}, "computed": {"type": "object"},
                                       "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Warning"}}}}}}}}),
            }},
        )
    spec.path(
        path="/api/v1/submissions",
        operations={
            "post": {
                "summary": "保存草稿或提交",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["kind", "data"],
                    "properties": {"kind": {"type": "string", "enum": [k.id for k in kinds.all_kinds()]},
                                   "data": {"type": "object"},
                                   "action": {"type": "string", "enum": ["save", "submit"]}}}}}},
                "responses": _responses({"201": {"description": "已保存", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Submission"}}}}}),
            },
            "get": {"summary": "已保存的文档", "parameters": [{
                "name": "status", "in": "query", "required": False, "description": "只列出该状态的文档",
                "schema": {"type": "string", "enum": list(Submission.STATUSES)}}],
                "responses": {"200": {"description": "列表", "content": {"application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Submission"}}}}}}},
        },
    )
    spec.path(
        path="/api/v1/verify",
        operations={"post": {
            "summary": "验证PDF的电子签名（无需登录）",
            "requestBody": {"required": True, "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                                   "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": _responses({"200": {"description": "验证结果：valid 仅当由已登记的发文机关签署、签名有效且签署后未改动",
                                             "content": {"application/json": {"schema": {"type": "object"}}}}}),
        }},
    )
    return spec.to_dict()
