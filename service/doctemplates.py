"""Custom docx templates uploaded by the administrator: checked at upload, rendered in a sandbox.

At upload (`check_upload`): the size is limited; the package must be a plain docx zip (bounded
entry count, sizes and compression ratio; no DTDs or entities in its XML); and the template may
use only the variables of its kind's schema (plus `range`), with no attribute starting with "_"
and no include/import. `{{ cycler.__init__.__globals__.os.popen('id').read() }}` is refused there
(unknown variable `cycler`, attribute `__init__`) and could not run anyway: rendering happens in
service/template_sandbox.py, a separate process with an ImmutableSandboxedEnvironment, no
globals but `range`, autoescape on, and a wall-clock timeout plus CPU and memory limits, so
`{% for i in range(10**12) %}` or nested loops are stopped.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import kinds
from kinds.pipeline import Output
from service.errors import ApiError

WORKER = Path(__file__).with_name("template_sandbox.py")
MAX_TEMPLATE_BYTES = 2 * 1024 * 1024
MAX_ENTRIES = 300
MAX_UNCOMPRESSED = 30 * 1024 * 1024
MAX_RATIO = 100
TIMEOUT_SECONDS = 10
MEMORY_LIMIT = 1024 * 1024 * 1024
ALLOWED_GLOBALS = {"range"}


class Messages:
    empty = "请选择要上传的docx模板文件。"
    too_large = f"模板文件不能超过{MAX_TEMPLATE_BYTES // 1024 // 1024}MB。"
    not_docx = "这不是有效的docx文件（Word 2007及以后的格式）。"
    bomb = "模板文件解压后过大或结构异常，已拒绝。"
    entities = "模板中含有DTD或实体声明，已拒绝。"
    unknown_variables = "模板使用了“{kind}”没有的变量：{names}。可用的变量：{known}。"
    timeout = f"模板处理超过{TIMEOUT_SECONDS}秒被终止，请检查模板中的循环。"
    failed = "模板无法处理：{error}"


def known_variables(kind: kinds.Kind) -> set[str]:
    """The top-level fields of the kind's schema: what a stored document holds."""
    return set(kind.schema_instance().fields) | ALLOWED_GLOBALS


def _run(mode: str, content: bytes, context: dict | None = None) -> dict:
    request = json.dumps({"template": base64.b64encode(content).decode(), "context": context or {}},
                         ensure_ascii=False, default=str)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
    # The child sets its own CPU and memory limits before it reads the template (no preexec_fn:
    # it is unsafe in threaded servers); the wall-clock timeout below is the parent's.
    proc = subprocess.Popen([sys.executable, "-I", str(WORKER), mode, str(TIMEOUT_SECONDS + 2), str(MEMORY_LIMIT)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd="/", process_group=0)
    try:
        out, err = proc.communicate(request.encode("utf-8"), timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()  # SIGKILL: a loop in the template cannot ignore it
        proc.communicate()
        raise ApiError(422, Messages.timeout, {"file": [Messages.timeout]}) from None
    try:
        result = json.loads(out or b"{}")
    except json.JSONDecodeError:
        result = {}
    if proc.returncode != 0 or not result:
        error = "进程异常结束（可能超出内存或CPU限制）"
        raise ApiError(422, Messages.failed.format(error=error), {"file": [Messages.failed.format(error=error)]})
    return result


def _package_problems(content: bytes) -> list[str]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return [Messages.not_docx]
    with zf:
        names = {i.filename for i in infos}
        if "word/document.xml" not in names or "[Content_Types].xml" not in names:
            return [Messages.not_docx]
        total = 0
        if len(infos) > MAX_ENTRIES:
            return [Messages.bomb]
        for info in infos:
            total += info.file_size
            if (info.file_size > MAX_UNCOMPRESSED or total > MAX_UNCOMPRESSED
                    or (info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1_000_000)
                    or info.filename.startswith("/") or ".." in info.filename.split("/")):
                return [Messages.bomb]
        for info in infos:
            if info.filename.endswith((".xml", ".rels")):
                with zf.open(info) as fh:
                    head = fh.read(MAX_UNCOMPRESSED + 1)
                if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                    return [Messages.entities]
    return []


def check_upload(kind: kinds.Kind, content: bytes) -> tuple[dict[str, list[str]], list[str]]:
    """({"file": [messages]} or {}, the variables the template uses)."""
    if not content:
        return {"file": [Messages.empty]}, []
    if len(content) > MAX_TEMPLATE_BYTES:
        return {"file": [Messages.too_large]}, []
    problems = _package_problems(content)
    if problems:
        return {"file": problems}, []
    try:
        result = _run("check", content)
    except ApiError as exc:
        return {"file": [exc.message]}, []
    if "error" in result:
        return {"file": [Messages.failed.format(error=result["error"])]}, []
    problems = list(result.get("problems", []))
    variables = list(result.get("variables", []))
    known = known_variables(kind)
    unknown = sorted(set(variables) - known)
    if unknown:
        problems.append(Messages.unknown_variables.format(kind=kind.name, names="、".join(unknown),
                                                          known="、".join(sorted(known))))
    return ({"file": problems} if problems else {}), variables


def render(content: bytes, context: dict) -> bytes:
    result = _run("render", content, context)
    if "error" in result:
        message = Messages.failed.format(error=result["error"])
        raise ApiError(422, message, {"template": [message]})
    return base64.b64decode(result["docx"])


def render_submission(tpl, sub) -> Output:
    """A stored submission through a custom template: a submitted one's data validated again
    (storage.records.stored_data: strings, lists, normalised amounts), a draft's as typed."""
    from generators.filenames import safe_filename
    from service.settings_store import current_settings
    from storage.records import StoredInvalid, stored_data

    kind = kinds.get(sub.kind)
    try:
        data = sub.data if sub.status == "draft" else stored_data(sub, current_settings())
    except StoredInvalid as exc:
        raise ApiError(422, errors=exc.errors) from None
    content = render(tpl.content, data)
    name = safe_filename(f"{kind.download_base(data)}（{tpl.name}）", "docx")
    return Output(content, name, kinds.MIME_TYPES["docx"])
