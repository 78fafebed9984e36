"""OFD (GB/T 33190-2016) from the PDF jxdoc already laid out.

The pages are not laid out again and not turned into pictures: `generators.pdfpages` reads every
glyph, rule and picture where weasyprint put it, and this module writes them as OFD objects —
TextObject (the characters, the x of every glyph as DeltaX, and CGTransform naming each glyph of
the embedded subset, so readers draw exactly the PDF's glyphs and find the text), PathObject
(rules, the star, table borders and shading), ImageObject (the score charts) — with the fonts the
PDF embeds, its bookmarks as Outlines, the document's facts in DocInfo and an empty signatures
container for seals. The package is deterministic: the same PDF and facts give the same bytes.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape, quoteattr

from generators import pdfpages
from generators.pdfpages import Font, Image, Layout, Outline, Path, Text, Unsupported
from generators.ziparchive import Member, write_zip

NAMESPACE = "http://www.ofdspec.org/2016"
MIME_TYPE = "application/ofd"
CREATOR = "jxdoc"
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'

__all__ = ["DocInfo", "MIME_TYPE", "Unsupported", "from_pdf", "write"]


@dataclass(frozen=True)
class DocInfo:
    """The document's facts for OFD.xml's DocInfo. `date` is the document's date as ISO
    (YYYY-MM-DD) or empty; `custom` are extra named facts (发文字号, 成文日期, 文种 …)."""

    title: str = ""
    author: str = ""  # the issuer (发文机关) or the unit
    subject: str = ""  # the kind of document
    date: str = ""
    keywords: str = ""
    custom: tuple[tuple[str, str], ...] = ()


def from_pdf(pdf: bytes, info: DocInfo | None = None) -> bytes:
    """The OFD package of the document `pdf` shows (a PDF made by jxdoc's weasyprint path).
    Raises `Unsupported` (Chinese message) for anything the PDF uses that OFD cannot be given."""
    layout = pdfpages.read(pdf)
    info = info or DocInfo()
    if not info.title or not info.author:  # the PDF's own metadata, where the caller has none
        info = replace(info, title=info.title or layout.info.get("title", ""),
                       author=info.author or layout.info.get("author", ""))
    return write(layout, info)


def _n(value: float) -> str:
    """A coordinate in millimetres: at most 3 decimals (a micrometre), no trailing zeros."""
    value = round(value, 3)
    whole = int(value)
    return str(whole) if value == whole else repr(value)  # repr: the shortest form, no trailing zeros


def _deltas(values: list[float]) -> str:
    """DeltaX/DeltaY with runs of equal advances written as `g N v`."""
    parts: list[str] = []
    texts = [_n(v) for v in values]
    i = 0
    while i < len(texts):
        j = i
        while j + 1 < len(texts) and texts[j + 1] == texts[i]:
            j += 1
        count = j - i + 1
        parts.append(f"g {count} {texts[i]}" if count > 2 else " ".join(texts[i:j + 1]))
        i = j + 1
    return " ".join(parts)


def _color(tag: str, rgb: tuple[int, int, int], alpha: int) -> str:
    extra = f' Alpha="{alpha}"' if alpha != 255 else ""
    return f'<ofd:{tag} Value="{rgb[0]} {rgb[1]} {rgb[2]}"{extra}/>'


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return escape(_XML_ILLEGAL.sub("\ufffd", value))


class _Ids:
    def __init__(self) -> None:
        self.last = 0

    def __call__(self) -> int:
        self.last += 1
        return self.last


def _text_object(ids: _Ids, text: Text, font_id: int) -> str:
    chars: list[str] = []
    xs: list[float] = []
    transforms: list[tuple[int, int, list[int]]] = []  # code position, code count, glyphs
    for gid, x, unicode in zip(text.glyphs, text.xs, text.chars, strict=True):
        unicode = unicode or "\ufffd"
        if len(unicode) == 1 and transforms and transforms[-1][1] == len(transforms[-1][2]) \
                and transforms[-1][0] + transforms[-1][1] == len(chars):
            position, count, glyphs = transforms[-1]
            transforms[-1] = (position, count + 1, [*glyphs, gid])
        else:
            transforms.append((len(chars), len(unicode), [gid]))
        chars.extend(unicode)
        xs.extend([x] * len(unicode))
    size = text.size
    left = min(text.xs[0], text.end) - size
    right = max(text.xs[-1], text.end) + size
    top = text.baseline - size * 1.25
    height = size * 1.75
    deltas = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    delta_attr = f' DeltaX="{_deltas(deltas)}"' if deltas else ""
    cg = "".join(
        f'<ofd:CGTransform CodePosition="{position}" CodeCount="{count}" GlyphCount="{len(glyphs)}">'
        f'<ofd:Glyphs>{" ".join(map(str, glyphs))}</ofd:Glyphs></ofd:CGTransform>'
        for position, count, glyphs in transforms)
    weight = ' Weight="700"' if text.font.bold else ""
    return (f'<ofd:TextObject ID="{ids()}" Boundary="{_n(left)} {_n(top)} {_n(right - left)} {_n(height)}" '
            f'Font="{font_id}" Size="{_n(size)}"{weight}>'
            f'{_color("FillColor", text.color, text.alpha)}{cg}'
            f'<ofd:TextCode X="{_n(xs[0] - left)}" Y="{_n(text.baseline - top)}"{delta_attr}>'
            f'{_text("".join(chars))}</ofd:TextCode></ofd:TextObject>')


def _path_data(path: Path, left: float, top: float) -> str:
    out: list[str] = []
    for sub in path.subpaths:
        for op in sub:
            if op[0] == "C":
                out.append("C")
            elif op[0] == "B":
                out.append("B " + " ".join(_n(v - (left if i % 2 == 0 else top)) for i, v in enumerate(op[1:])))
            else:
                out.append(f"{op[0]} {_n(op[1] - left)} {_n(op[2] - top)}")
    return " ".join(out)


def _path_object(ids: _Ids, path: Path) -> str:
    x0, y0, x1, y1 = path.bbox()
    margin = 0.5
    left, top = x0 - margin, y0 - margin
    attrs = [f'ID="{ids()}"', f'Boundary="{_n(left)} {_n(top)} {_n(x1 - x0 + 2 * margin)} {_n(y1 - y0 + 2 * margin)}"',
             f'Stroke="{str(path.stroke).lower()}"', f'Fill="{str(path.fill).lower()}"']
    children = []
    if path.stroke:
        attrs.append(f'LineWidth="{_n(path.line_width)}"')
        if path.cap != "Butt":
            attrs.append(f'Cap="{path.cap}"')
        if path.join != "Miter":
            attrs.append(f'Join="{path.join}"')
        if path.join == "Miter" and abs(path.miter_limit - 3.528) > 1e-3:
            attrs.append(f'MiterLimit="{_n(path.miter_limit)}"')
        if path.dash:
            attrs.append(f'DashPattern="{" ".join(_n(v) for v in path.dash)}"')
            if path.dash_offset:
                attrs.append(f'DashOffset="{_n(path.dash_offset)}"')
        children.append(_color("StrokeColor", path.stroke_color, path.stroke_alpha))
    if path.fill:
        if path.even_odd:
            attrs.append('Rule="Even-Odd"')
        children.append(_color("FillColor", path.fill_color, path.fill_alpha))
    children.append(f"<ofd:AbbreviatedData>{_path_data(path, left, top)}</ofd:AbbreviatedData>")
    return f'<ofd:PathObject {" ".join(attrs)}>{"".join(children)}</ofd:PathObject>'


def _image_object(ids: _Ids, image: Image, media_id: int) -> str:
    x0, y0, x1, y1 = image.box
    w, h = x1 - x0, y1 - y0
    return (f'<ofd:ImageObject ID="{ids()}" Boundary="{_n(x0)} {_n(y0)} {_n(w)} {_n(h)}" '
            f'CTM="{_n(w)} 0 0 {_n(h)} 0 0" ResourceID="{media_id}"/>')


def _outline_xml(items: Iterable[Outline], page_ids: list[int]) -> str:
    out = []
    for item in items:
        action = ""
        if item.page is not None and 0 <= item.page < len(page_ids):
            top = f' Top="{_n(item.top)}"' if item.top is not None else ""
            action = (f'<ofd:Actions><ofd:Action Event="CLICK"><ofd:Goto><ofd:Dest Type="XYZ" '
                      f'PageID="{page_ids[item.page]}" Left="0"{top}/></ofd:Goto></ofd:Action></ofd:Actions>')
        out.append(f'<ofd:OutlineElem Title={quoteattr(_XML_ILLEGAL.sub("", item.title))}>{action}'
                   f'{_outline_xml(item.children, page_ids)}</ofd:OutlineElem>')
    return "".join(out)


def _flag(name: str, value: bool) -> str:
    return f' {name}="true"' if value else ""


def _font_name(font: Font) -> str:
    return font.name.replace("-", " ")


def write(layout: Layout, info: DocInfo) -> bytes:
    """The OFD package of `layout` with `info` in its DocInfo."""
    if not layout.pages:
        raise Unsupported("文档没有页面，不能生成OFD。")
    ids = _Ids()
    font_ids = {font.key: ids() for font in layout.fonts}
    media_ids = {image.key: ids() for image in layout.images}
    first = layout.pages[0]
    page_parts: list[str] = []
    page_ids: list[int] = []
    for page in layout.pages:
        page_ids.append(ids())
        layer = ids()
        objects = []
        for item in page.objects:
            if isinstance(item, Text):
                objects.append(_text_object(ids, item, font_ids[item.font.key]))
            elif isinstance(item, Path):
                objects.append(_path_object(ids, item))
            else:
                objects.append(_image_object(ids, item, media_ids[item.key]))
        area = ""
        if abs(page.width - first.width) > 1e-3 or abs(page.height - first.height) > 1e-3:
            area = f"<ofd:Area><ofd:PhysicalBox>0 0 {_n(page.width)} {_n(page.height)}</ofd:PhysicalBox></ofd:Area>"
        page_parts.append(f'{_HEAD}<ofd:Page xmlns:ofd="{NAMESPACE}">{area}<ofd:Content>'
                          f'<ofd:Layer ID="{layer}" Type="Body">{"".join(objects)}</ofd:Layer>'
                          f'</ofd:Content></ofd:Page>')

    fonts_xml = "".join(
        f'<ofd:Font ID="{font_ids[f.key]}" FontName={quoteattr(_font_name(f))} FamilyName={quoteattr(f.family)}'
        f'{_flag("Bold", f.bold)}{_flag("Italic", f.italic)}>'
        f"<ofd:FontFile>font_{font_ids[f.key]}.{f.suffix}</ofd:FontFile></ofd:Font>" for f in layout.fonts)
    public_res = (f'{_HEAD}<ofd:Res xmlns:ofd="{NAMESPACE}" BaseLoc="Res">'
                  f'{"<ofd:Fonts>" + fonts_xml + "</ofd:Fonts>" if fonts_xml else ""}</ofd:Res>')
    media_xml = "".join(
        f'<ofd:MultiMedia ID="{media_ids[i.key]}" Type="Image" Format="PNG">'
        f"<ofd:MediaFile>image_{media_ids[i.key]}.png</ofd:MediaFile></ofd:MultiMedia>" for i in layout.images)
    document_res = (f'{_HEAD}<ofd:Res xmlns:ofd="{NAMESPACE}" BaseLoc="Res">'
                    f'{"<ofd:MultiMedias>" + media_xml + "</ofd:MultiMedias>" if media_xml else ""}</ofd:Res>')
    outlines = _outline_xml(layout.outlines, page_ids)
    pages_xml = "".join(f'<ofd:Page ID="{pid}" BaseLoc="Pages/Page_{n}/Content.xml"/>'
                        for n, pid in enumerate(page_ids))
    document = (f'{_HEAD}<ofd:Document xmlns:ofd="{NAMESPACE}"><ofd:CommonData>'
                f"<ofd:MaxUnitID>{ids.last}</ofd:MaxUnitID>"
                f"<ofd:PageArea><ofd:PhysicalBox>0 0 {_n(first.width)} {_n(first.height)}</ofd:PhysicalBox></ofd:PageArea>"
                f"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>"
                f"</ofd:CommonData><ofd:Pages>{pages_xml}</ofd:Pages>"
                f'{"<ofd:Outlines>" + outlines + "</ofd:Outlines>" if outlines else ""}</ofd:Document>')
    signatures = f'{_HEAD}<ofd:Signatures xmlns:ofd="{NAMESPACE}"><ofd:MaxSignId>0</ofd:MaxSignId></ofd:Signatures>'

    parts: list[tuple[str, bytes]] = [
        ("Doc_0/Document.xml", document.encode()),
        ("Doc_0/PublicRes.xml", public_res.encode()),
        ("Doc_0/DocumentRes.xml", document_res.encode()),
        *((f"Doc_0/Pages/Page_{n}/Content.xml", xml.encode()) for n, xml in enumerate(page_parts)),
        ("Doc_0/Signs/Signatures.xml", signatures.encode()),
    ]
    binaries: list[tuple[str, bytes, bytes | None]] = [
        *((f"Doc_0/Res/font_{font_ids[f.key]}.{f.suffix}", f.data, f.deflated) for f in layout.fonts),
        *((f"Doc_0/Res/image_{media_ids[i.key]}.png", i.png, None) for i in layout.images),
    ]
    digest = hashlib.sha256()
    for name, data in parts:
        digest.update(name.encode() + b"\0" + data)
    for name, data, _ in binaries:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    ofd_xml = _ofd_xml(info, digest.hexdigest()[:32])
    members = [Member.compress("OFD.xml", ofd_xml.encode())]
    members += [Member.compress(name, data) for name, data in parts]
    for name, data, deflated in binaries:
        members.append(Member(name, zlib.crc32(data), len(data), deflated) if deflated is not None
                       else Member.stored(name, data) if name.endswith(".png") else Member.compress(name, data, 1))
    return write_zip(members)


def _ofd_xml(info: DocInfo, doc_id: str) -> str:
    fields = [f"<ofd:DocID>{doc_id}</ofd:DocID>"]
    for tag, value in (("Title", info.title), ("Author", info.author), ("Subject", info.subject)):
        if value:
            fields.append(f"<ofd:{tag}>{_text(value)}</ofd:{tag}>")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", info.date or ""):
        fields.append(f"<ofd:CreationDate>{info.date}</ofd:CreationDate>")
    if info.keywords:
        fields.append(f"<ofd:Keywords><ofd:Keyword>{_text(info.keywords)}</ofd:Keyword></ofd:Keywords>")
    fields.append(f"<ofd:Creator>{CREATOR}</ofd:Creator>")
    custom = "".join(f"<ofd:CustomData Name={quoteattr(name)}>{_text(value)}</ofd:CustomData>"
                     for name, value in info.custom if value)
    if custom:
        fields.append(f"<ofd:CustomDatas>{custom}</ofd:CustomDatas>")
    return (f'{_HEAD}<ofd:OFD xmlns:ofd="{NAMESPACE}" Version="1.0" DocType="OFD"><ofd:DocBody>'
            f'<ofd:DocInfo>{"".join(fields)}</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>'
            f"<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody></ofd:OFD>")
