"""The 公文 kinds, all laid out by the GB/T 9704-2012 engine."""

from forms import official
from generators.gongwen import renderer
from kinds import Kind, register

_KINDS = (
    ("request", "请示", official.RequestSchema, "向上级机关请求指示、批准，一文一事，主送一个机关。"),
    ("report", "报告", official.ReportSchema, "向上级机关汇报工作、反映情况（含工作情况说明、总结报告、汇报），不得夹带请示事项。"),
    ("opinion", "意见", official.OpinionSchema, "对重要问题提出见解和处理办法，含实施意见；可上行、下行或平行。"),
    ("notice", "通知", official.NoticeSchema, "发布、传达要求下级机关办理和需要有关单位周知或者执行的事项。"),
    ("letter", "函", official.LetterSchema, "不相隶属机关之间商洽工作、询问和答复问题，信函格式。"),
)

for kind_id, name, schema, description in _KINDS:
    register(
        Kind(
            id=kind_id,
            name=name,
            group="公文",
            schema=schema,
            renderers={"docx": renderer(kind_id, "docx"), "pdf": renderer(kind_id, "pdf")},
            templates=("gongwen.html", "gongwen.css"),
            description=description,
        )
    )
