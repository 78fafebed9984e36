"""The public verification page: anyone uploads a PDF and learns whether a registered issuing
organ signed it, whether it is unchanged since, and which stored document it is (the signed
file's SHA-256 in the audit log). No account is needed; nothing uploaded is kept."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from service.gate import public
from service.signing import verify

bp = Blueprint("verify", __name__, url_prefix="/verify")


def uploaded_pdf() -> tuple[bytes | None, str]:
    """The uploaded file (field `file`, or a raw application/pdf body) and a Chinese problem."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.read(current_app.config["MAX_CONTENT_LENGTH"])
    elif request.mimetype == "application/pdf":
        data = request.get_data(cache=False)
    else:
        return None, "请选择要验证的PDF文件。"
    if not data.startswith(b"%PDF-"):
        return None, "上传的文件不是PDF。"
    return data, ""


@bp.route("", methods=["GET", "POST"])
@public
def page():
    result = records = None
    problem = ""
    status = 200
    if request.method == "POST":
        data, problem = uploaded_pdf()
        if data is not None:
            result, records = verify(data)
        else:
            status = 422
    return render_template("verify.html", result=result, records=records, problem=problem,
                           filename=(request.files.get("file").filename if request.files.get("file") else "")), status
