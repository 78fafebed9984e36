"""The laid-out pages of a PDF that jxdoc made, read back as positioned objects.

The OFD writer does not lay anything out: weasyprint already placed every glyph, rule and picture,
and its PDF says exactly where. This module reads that PDF (pypdf for the object graph, a small
tokenizer for the page content streams) into plain objects in OFD's units — millimetres from the
page's top-left corner, y downward:

* `Text`: one shown string — the glyph ids, the characters each stands for (the font's ToUnicode),
  the x of every glyph origin and the baseline, the font and its size, the fill colour;
* `Path`: subpaths of moves, lines, curves and closes, stroked and/or filled, with line width,
  colours, cap, join, dash and fill rule;
* `Image`: a picture (a PNG file) and the box it fills;
* `Font`: the subset the PDF embeds, as an OpenType/TrueType file (bare CFF wrapped with fontTools).

Only what weasyprint writes is understood: the operators it uses, Identity-H CID fonts, DeviceRGB
and DeviceGray. Anything else raises `Unsupported` with a Chinese message, so a document is never
written with a part silently missing. Clipping is applied here: an object inside its clip is kept
as it is, an axis-aligned rectangle fill or rule is cut to an axis-aligned clip exactly (how
weasyprint draws table borders and cell backgrounds), and anything else a clip would cut is
refused.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from pypdf.generic import IndirectObject

PT_MM = 25.4 / 72  # one PDF point in millimetres
_EPSILON = 0.05  # mm an object may pass its clip by (anti-aliasing of 1 px at 300 dpi is 0.08)


class Unsupported(ValueError):
    """The PDF uses something the OFD writer cannot express (the message is Chinese)."""


@dataclass
class Font:
    key: int  # the number of the PDF object it comes from
    name: str  # PostScript name without the subset tag
    family: str
    data: bytes  # an sfnt file (OpenType CFF or TrueType)
    suffix: str  # "otf" or "ttf"
    widths: dict[int, float]  # glyph id -> advance in thousandths of the font size
    default_width: float
    unicode: dict[int, str]  # glyph id -> the characters it stands for
    bold: bool = False
    italic: bool = False
    deflated: bytes | None = None  # `data` as a raw deflate stream, when the PDF holds it so
    codes: dict[int, int] | None = None  # character code -> glyph id, None for Identity-H


@dataclass
class Text:
    font: Font
    size: float  # mm
    baseline: float  # mm from the page top
    xs: list[float]  # mm from the page left, one per glyph
    glyphs: list[int]
    chars: list[str]  # the characters each glyph stands for
    end: float  # x after the last glyph's advance
    color: tuple[int, int, int]
    alpha: int = 255


@dataclass
class Path:
    subpaths: list[list[tuple]]  # ("M", x, y) ("L", x, y) ("B", x1, y1, x2, y2, x, y) ("C",)
    stroke: bool
    fill: bool
    even_odd: bool = False
    line_width: float = 0.0
    stroke_color: tuple[int, int, int] = (0, 0, 0)
    fill_color: tuple[int, int, int] = (0, 0, 0)
    stroke_alpha: int = 255
    fill_alpha: int = 255
    cap: str = "Butt"
    join: str = "Miter"
    miter_limit: float = 10.0
    dash: tuple[float, ...] = ()
    dash_offset: float = 0.0

    def bbox(self) -> tuple[float, float, float, float]:
        xs = [v for sub in self.subpaths for op in sub for v in op[1::2]]
        ys = [v for sub in self.subpaths for op in sub for v in op[2::2]]
        grow = self.line_width / 2 if self.stroke else 0.0
        return min(xs) - grow, min(ys) - grow, max(xs) + grow, max(ys) + grow


@dataclass
class Image:
    key: int
    png: bytes
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in mm


@dataclass
class Page:
    width: float
    height: float
    objects: list[Text | Path | Image] = field(default_factory=list)


@dataclass
class Outline:
    title: str
    page: int | None
    top: float | None  # mm from the page top
    children: list[Outline] = field(default_factory=list)


@dataclass
class Layout:
    pages: list[Page]
    fonts: list[Font]
    images: list[Image]
    outlines: list[Outline]
    info: dict[str, str]


# --- content stream tokens -----------------------------------------------------------------------

_TOKEN = re.compile(
    rb"\s*(?:%[^\r\n]*|(\[)|(\])|<([0-9A-Fa-f\s]*)>|/([^\s/\[\]<>(){}%]*)"
    rb"|([+-]?(?:\d+\.?\d*|\.\d+))|([A-Za-z'\"*]+)|(\()|(<<|>>|[{}]))"
)


def _tokens(data: bytes):
    """(kind, value) pairs: "n" number, "h" hex bytes, "/" name, "[" "]" arrays, "op"."""
    pos, end = 0, len(data)
    match = _TOKEN.match
    while pos < end:
        m = match(data, pos)
        if m is None or m.end() == pos:
            if data[pos:].strip():
                raise Unsupported("PDF页面内容有无法识别的部分，不能转换为OFD。")
            return
        pos = m.end()
        if m.group(5) is not None:
            yield "n", float(m.group(5))
        elif m.group(6) is not None:
            yield "op", m.group(6)
        elif m.group(3) is not None:
            digits = re.sub(rb"\s", b"", m.group(3))
            yield "h", bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())
        elif m.group(4) is not None:
            yield "/", m.group(4).decode("latin-1")
        elif m.group(1):
            yield "[", None
        elif m.group(2):
            yield "]", None
        elif m.group(7):
            raise Unsupported("PDF页面内容含有非十六进制编码的文字，不能转换为OFD。")
        elif m.group(8):
            raise Unsupported("PDF页面内容含有内联字典，不能转换为OFD。")


_LINE_OP = re.compile(rb"^(.*?)\s*([A-Za-z'\"*]+)$")
_SIMPLE = re.compile(rb"^[-+0-9. /A-Za-z_]*$")
_TJ_ITEM = re.compile(rb"<([0-9A-Fa-f]*)>|([+-]?(?:\d+\.?\d*|\.\d+))")


def _operations(data: bytes):
    """(operator, operands) for each operator of a content stream. weasyprint writes one
    operator a line: such lines are split directly (a text array with one pattern), anything
    else goes through the tokenizer."""
    for line in data.split(b"\n"):
        line = line.strip()
        if not line:
            continue
        m = _LINE_OP.match(line)
        if m is not None:
            body, op = m.groups()
            if op == b"TJ" and body.startswith(b"[") and body.endswith(b"]") and b"(" not in body:
                items: list[Any] = [bytes.fromhex(h.decode()) if n == b"" else float(n)
                                    for h, n in _TJ_ITEM.findall(body[1:-1])]
                yield op, [items]
                continue
            if _SIMPLE.match(body) and b"//" not in body:
                try:
                    operands = [("/", t[1:].decode("latin-1")) if t[:1] == b"/" else float(t) for t in body.split()]
                except ValueError:  # more than one operator on the line
                    pass
                else:
                    yield op, operands
                    continue
        yield from _tokenized(line)


def _tokenized(data: bytes):
    """(operator, operands) for each operator of a content stream, from its tokens."""
    operands: list[Any] = []
    stack: list[list] = []
    for kind, value in _tokens(data):
        if kind == "op":
            if stack:
                raise Unsupported("PDF页面内容的数组没有结束，不能转换为OFD。")
            yield value, operands
            operands = []
        elif kind == "[":
            stack.append([])
        elif kind == "]":
            if not stack:
                raise Unsupported("PDF页面内容的数组不完整，不能转换为OFD。")
            done = stack.pop()
            (stack[-1] if stack else operands).append(done)
        else:
            item = value if kind != "/" else ("/", value)
            (stack[-1] if stack else operands).append(item)


# --- matrices ------------------------------------------------------------------------------------

def _multiply(m, n):
    """m × n for PDF matrices (a b c d e f): apply m, then n."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _apply(m, x, y):
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


# --- resources -----------------------------------------------------------------------------------

_CMAP_PAIRS = re.compile(rb"beginbf(char|range)(.*?)endbf\1", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>|\[([^\]]*)\]")


def _utf16(hexbytes: bytes) -> str:
    return bytes.fromhex(hexbytes.decode()).decode("utf-16-be", "replace")


def parse_to_unicode(data: bytes) -> dict[int, str]:
    """glyph id -> characters, from a ToUnicode CMap (bfchar and bfrange)."""
    result: dict[int, str] = {}
    for kind, body in _CMAP_PAIRS.findall(data):
        items = _HEX.findall(body)
        if kind == b"char":
            for (src, _), (dst, _) in zip(items[0::2], items[1::2], strict=False):
                result[int(src, 16)] = _utf16(dst)
        else:
            for i in range(0, len(items) - 2, 3):
                lo, hi = int(items[i][0], 16), int(items[i + 1][0], 16)
                dst, array = items[i + 2]
                if array:
                    for n, value in enumerate(re.findall(rb"<([0-9A-Fa-f]*)>", array)):
                        result[lo + n] = _utf16(value)
                else:
                    start = bytes.fromhex(dst.decode())
                    base = int.from_bytes(start[-2:], "big")
                    for n in range(hi - lo + 1):
                        result[lo + n] = (start[:-2] + (base + n).to_bytes(2, "big")).decode("utf-16-be", "replace")
    return result


_CID_PAIRS = re.compile(rb"begincid(char|range)(.*?)endcid\1", re.S)


def parse_cid_map(data: bytes) -> dict[int, int]:
    """code -> CID from an encoding CMap (cidchar and cidrange); unmapped codes select CID 0."""
    if re.search(rb"/UseCMap|usecmap", data):
        raise Unsupported("PDF字体的编码引用了其他编码表，不能写入OFD。")
    result: dict[int, int] = {}
    for kind, body in _CID_PAIRS.findall(data):
        items = re.findall(rb"<([0-9A-Fa-f]+)>|(\d+)", body)
        if kind == b"char":
            for (code, _), (_, cid) in zip(items[0::2], items[1::2], strict=False):
                result[int(code, 16)] = int(cid)
        else:
            for i in range(0, len(items) - 2, 3):
                lo, hi, start = int(items[i][0], 16), int(items[i + 1][0], 16), int(items[i + 2][1])
                for n in range(hi - lo + 1):
                    result[lo + n] = start + n
    return result


def _widths(array) -> dict[int, float]:
    widths: dict[int, float] = {}
    items = list(array or [])
    i = 0
    while i < len(items):
        first = int(items[i])
        nxt = items[i + 1]
        if isinstance(nxt, list) or hasattr(nxt, "__iter__"):
            for n, w in enumerate(nxt):
                widths[first + n] = float(w)
            i += 2
        else:
            for g in range(first, int(nxt) + 1):
                widths[g] = float(items[i + 2])
            i += 3
    return widths


def wrap_cff(cff: bytes, widths: dict[int, float], unicode: dict[int, str], name: str) -> bytes:
    """An OpenType file around bare CFF data (a PDF's FontFile3 of subtype CIDFontType0C or
    Type1C): the CFF table as it is, with the metrics and cmap the PDF gives."""
    from fontTools.cffLib import CFFFontSet
    from fontTools.fontBuilder import FontBuilder

    fonts = CFFFontSet()
    fonts.decompile(io.BytesIO(cff), None)
    top = fonts[fonts.fontNames[0]]
    order = list(top.charset)
    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap({ord(t): order[g] for g, t in unicode.items() if len(t) == 1 and g < len(order)})
    table = builder.font["CFF "] = __import__("fontTools.ttLib", fromlist=["newTable"]).newTable("CFF ")
    table.cff = fonts
    default = widths.get(-1, 1000)
    metrics = {}
    for gid, glyph in enumerate(order):
        charstring = top.CharStrings[glyph]
        bounds = charstring.calcBounds(top.CharStrings)
        metrics[glyph] = (round(widths.get(gid, default)), round(bounds[0]) if bounds else 0)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": name, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.setupMaxp()
    out = io.BytesIO()
    builder.font.save(out)
    return out.getvalue()


def _raw_deflate(stream) -> bytes | None:
    """The raw deflate data of a Flate stream as the PDF holds it (its zlib wrapper removed), so
    the OFD package stores the font without compressing it again; None for other streams."""
    raw = getattr(stream, "_data", None)  # pypdf keeps the encoded bytes there
    if (stream.get("/Filter") != "/FlateDecode" or stream.get("/DecodeParms") or not isinstance(raw, bytes)
            or len(raw) < 7 or raw[0] & 0x0F != 8 or raw[1] & 0x20 or ((raw[0] << 8) | raw[1]) % 31):
        return None
    return raw[2:-4]


def _png(width: int, height: int, colors: int, idat: bytes) -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    color_type = {1: 0, 3: 2}[colors]
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _image_png(xobject) -> bytes:
    """A PNG file of an image XObject. A Flate stream with PNG predictors is already a PNG's image
    data, so it is copied, not decoded; anything else goes through pypdf and Pillow."""
    raw_filter = xobject.get("/Filter")
    params = xobject.get("/DecodeParms") or {}
    space = xobject.get("/ColorSpace")
    colors = {"/DeviceRGB": 3, "/DeviceGray": 1}.get(str(space))
    if (raw_filter == "/FlateDecode" and colors and int(xobject.get("/BitsPerComponent", 8)) == 8
            and "/SMask" not in xobject and "/Mask" not in xobject and int(params.get("/Predictor", 1)) >= 10
            and int(params.get("/Colors", 1)) == colors and int(params.get("/Columns", 1)) == int(xobject["/Width"])):
        return _png(int(xobject["/Width"]), int(xobject["/Height"]), colors, xobject._data)
    try:
        picture = xobject.decode_as_image()
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds for an image it cannot decode
        raise Unsupported("PDF中有一幅图片的编码不能转换为OFD。") from exc
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=False)
    return out.getvalue()


# --- clipping ------------------------------------------------------------------------------------

def _rect_of(subpath) -> tuple[float, float, float, float] | None:
    """The axis-aligned rectangle a subpath of four corners draws, or None."""
    points = [op[1:3] for op in subpath if op[0] in ("M", "L")]
    if any(op[0] == "B" for op in subpath):
        return None
    if len(points) == 5 and abs(points[0][0] - points[4][0]) < 1e-6 and abs(points[0][1] - points[4][1]) < 1e-6:
        points = points[:4]
    if len(points) != 4:
        return None
    xs = sorted({round(p[0], 6) for p in points})
    ys = sorted({round(p[1], 6) for p in points})
    if len(xs) != 2 or len(ys) != 2:
        return None
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        if abs(x1 - x2) > 1e-6 and abs(y1 - y2) > 1e-6:
            return None
    return xs[0], ys[0], xs[1], ys[1]


def _inside(box, clip) -> bool:
    return (box[0] >= clip[0] - _EPSILON and box[1] >= clip[1] - _EPSILON
            and box[2] <= clip[2] + _EPSILON and box[3] <= clip[3] + _EPSILON)


def _rect_path(rects) -> list[list[tuple]]:
    return [[("M", x0, y0), ("L", x1, y0), ("L", x1, y1), ("L", x0, y1), ("C",)] for x0, y0, x1, y1 in rects]


def _cut(rects, even_odd: bool, clip) -> list[tuple[float, float, float, float]]:
    """The area `rects` fill (even-odd or union) within `clip`, as disjoint rectangles."""
    xs = sorted({v for r in rects for v in (r[0], r[2])} | {clip[0], clip[2]})
    ys = sorted({v for r in rects for v in (r[1], r[3])} | {clip[1], clip[3]})
    out = []
    for y0, y1 in zip(ys, ys[1:], strict=False):
        if y1 - y0 < 1e-9 or y0 < clip[1] - 1e-9 or y1 > clip[3] + 1e-9:
            continue
        cy = (y0 + y1) / 2
        run = None
        for x0, x1 in zip(xs, xs[1:], strict=False):
            cx = (x0 + x1) / 2
            count = sum(1 for r in rects if r[0] < cx < r[2] and r[1] < cy < r[3])
            filled = (count % 2 == 1 if even_odd else count > 0) and clip[0] <= cx <= clip[2]
            if filled and x1 - x0 > 1e-9:
                run = (run[0], x1) if run and abs(run[1] - x0) < 1e-9 else run
                if run is None or run[1] != x1:
                    if run:
                        out.append((run[0], y0, run[1], y1))
                    run = (x0, x1)
            elif run:
                out.append((run[0], y0, run[1], y1))
                run = None
        if run:
            out.append((run[0], y0, run[1], y1))
    # Rows with the same horizontal extent one above the other become one rectangle.
    merged: list[tuple[float, float, float, float]] = []
    for r in sorted(out, key=lambda r: (r[0], r[2], r[1])):
        last = merged[-1] if merged else None
        if last and last[0] == r[0] and last[2] == r[2] and abs(last[3] - r[1]) < 1e-9:
            merged[-1] = (last[0], last[1], last[2], r[3])
        else:
            merged.append(r)
    return merged


# --- the interpreter -----------------------------------------------------------------------------

_CAPS = {0: "Butt", 1: "Round", 2: "Square"}
_JOINS = {0: "Miter", 1: "Round", 2: "Bevel"}


@dataclass
class _State:
    ctm: tuple = (1, 0, 0, 1, 0, 0)
    fill: tuple[int, int, int] = (0, 0, 0)
    stroke: tuple[int, int, int] = (0, 0, 0)
    fill_alpha: int = 255
    stroke_alpha: int = 255
    line_width: float = 1.0
    cap: int = 0
    join: int = 0
    miter: float = 10.0
    dash: tuple = ((), 0.0)
    clips: tuple = ()  # boxes (x0, y0, x1, y1) in mm, all of which apply
    font: Font | None = None
    font_size: float = 0.0

    def copy(self) -> _State:
        return _State(**self.__dict__)


def _color(values, page_no: int) -> tuple[int, int, int]:
    if len(values) == 1:
        v = round(float(values[0]) * 255)
        return (v, v, v)
    if len(values) == 3:
        return tuple(round(float(v) * 255) for v in values)
    raise Unsupported(f"第{page_no}页使用了OFD写出器不支持的颜色（CMYK或其他颜色空间）。")


class _Reader:
    def __init__(self, pdf: bytes):
        self.reader = PdfReader(io.BytesIO(pdf))
        self.fonts: dict[int, Font] = {}
        self.images: dict[int, Image] = {}
        self.alphas: dict[int, tuple[int | None, int | None]] = {}

    @staticmethod
    def _key(ref) -> int:
        return ref.idnum if isinstance(ref, IndirectObject) else id(ref)

    def font(self, ref) -> Font:
        key = self._key(ref)
        if key in self.fonts:
            return self.fonts[key]
        font = ref.get_object()
        encoding = font.get("/Encoding")
        if font.get("/Subtype") != "/Type0" or (encoding != "/Identity-H" and not hasattr(encoding, "get_data")):
            raise Unsupported(f"字体“{font.get('/BaseFont')}”不是Identity-H编码的CID字体，不能写入OFD。")
        # weasyprint writes a CMap of its own for a font that lacks some characters: the codes of the
        # glyphs it has map to themselves, the others to 0 (.notdef).
        codes = None if encoding == "/Identity-H" else parse_cid_map(encoding.get_data())
        cid = font["/DescendantFonts"][0].get_object()
        if cid.get("/CIDToGIDMap", "/Identity") != "/Identity":
            raise Unsupported(f"字体“{font.get('/BaseFont')}”的CID与字形编号不一致，不能写入OFD。")
        descriptor = cid["/FontDescriptor"].get_object()
        widths = _widths(cid.get("/W"))
        unicode = parse_to_unicode(font["/ToUnicode"].get_object().get_data()) if "/ToUnicode" in font else {}
        base = str(font.get("/BaseFont", "/Font"))[1:]
        name = base.split("+", 1)[1] if re.match(r"^[A-Z]{6}\+", base) else base
        family = str(descriptor.get("/FontFamily") or name)
        if "/FontFile2" in descriptor:
            stream = descriptor["/FontFile2"].get_object()
            data, suffix, deflated = stream.get_data(), "ttf", _raw_deflate(stream)
        elif "/FontFile3" in descriptor:
            stream = descriptor["/FontFile3"].get_object()
            data = stream.get_data()
            deflated = _raw_deflate(stream)
            if stream.get("/Subtype") in ("/CIDFontType0C", "/Type1C"):
                data, deflated = wrap_cff(data, widths, unicode, name), None
            suffix = "otf" if data[:4] == b"OTTO" else "ttf"
        else:
            raise Unsupported(f"字体“{name}”没有嵌入PDF，不能写入OFD。")
        if data[:4] not in (b"OTTO", b"\x00\x01\x00\x00", b"true"):
            raise Unsupported(f"字体“{name}”不是OpenType或TrueType字体，不能写入OFD。")
        flags = int(descriptor.get("/Flags", 0))
        made = Font(key, name, family, data, suffix, widths, float(cid.get("/DW", 1000)), unicode,
                    bold=bool(flags & (1 << 18)) or "Bold" in name, italic=bool(flags & (1 << 6)),
                    deflated=deflated, codes=codes)
        self.fonts[key] = made
        return made

    def image(self, ref, box) -> Image:
        key = self._key(ref)
        known = self.images.get(key)
        if known is None:
            known = self.images[key] = Image(key, _image_png(ref.get_object()), box)
        return Image(key, known.png, box)

    def alpha(self, ref) -> tuple[int | None, int | None]:
        key = self._key(ref)
        if key not in self.alphas:
            state = ref.get_object()
            for name in state:
                if name not in ("/Type", "/CA", "/ca", "/LW", "/LC", "/LJ", "/ML", "/D", "/SA", "/BM"):
                    raise Unsupported(f"PDF图形状态“{name}”（软蒙版等）不能写入OFD。")
            if str(state.get("/BM", "/Normal")) not in ("/Normal", "/Compatible"):
                raise Unsupported("PDF使用了混合模式，不能写入OFD。")
            stroke = round(float(state["/CA"]) * 255) if "/CA" in state else None
            fill = round(float(state["/ca"]) * 255) if "/ca" in state else None
            self.alphas[key] = (stroke, fill)
        return self.alphas[key]

    def page(self, number: int, pdf_page) -> Page:
        box = [float(v) for v in pdf_page.mediabox]
        width, height = (box[2] - box[0]) * PT_MM, (box[3] - box[1]) * PT_MM
        if int(pdf_page.get("/Rotate", 0)) % 360:
            raise Unsupported(f"第{number}页是旋转页面，不能写入OFD。")
        # PDF user space (points, y up) to OFD page space (millimetres, y down).
        base = (PT_MM, 0, 0, -PT_MM, -box[0] * PT_MM, box[3] * PT_MM)
        page = Page(width, height)
        resources = pdf_page.get("/Resources") or {}
        contents = pdf_page.get_contents()
        if contents is not None:
            self.run(number, contents.get_data(), resources, _State(ctm=base), page)
        return page

    def run(self, number: int, data: bytes, resources, state: _State, page: Page) -> None:
        stack: list[_State] = []
        path: list[list[tuple]] = []
        clip_rule: str | None = None
        text_matrix = (1, 0, 0, 1, 0, 0)
        line_matrix = text_matrix
        fonts = resources.get("/Font") or {}
        xobjects = resources.get("/XObject") or {}
        states = resources.get("/ExtGState") or {}

        def point(x, y):
            return _apply(state.ctm, float(x), float(y))

        for op, args in _operations(data):
            if op == b"q":
                stack.append(state.copy())
            elif op == b"Q":
                if not stack:
                    raise Unsupported(f"第{number}页的图形状态嵌套不完整，不能写入OFD。")
                state = stack.pop()
            elif op == b"cm":
                state.ctm = _multiply(tuple(float(v) for v in args), state.ctm)
            elif op == b"m":
                path.append([("M", *point(*args))])
            elif op == b"l":
                if not path:
                    path.append([])
                path[-1].append(("L", *point(*args)))
            elif op in (b"c", b"v", b"y"):
                if not path:
                    raise Unsupported(f"第{number}页的路径没有起点，不能写入OFD。")
                current = path[-1][-1][-2:]
                values = [float(v) for v in args]
                if op == b"v":
                    values = [*current, *values]
                elif op == b"y":
                    values = [*values, *values[2:]]
                path[-1].append(("B", *point(*values[0:2]), *point(*values[2:4]), *point(*values[4:6])))
            elif op == b"h":
                if path:
                    path[-1].append(("C",))
            elif op == b"re":
                x, y, w, h = (float(v) for v in args)
                path.append([("M", *point(x, y)), ("L", *point(x + w, y)), ("L", *point(x + w, y + h)),
                             ("L", *point(x, y + h)), ("C",)])
            elif op in (b"W", b"W*"):
                clip_rule = op.decode()
            elif op in (b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"n"):
                if op in (b"s", b"b", b"b*"):
                    for sub in path:
                        sub.append(("C",))
                if op != b"n" and path:
                    self.paint(number, page, state, path, stroke=op in (b"S", b"s", b"B", b"B*", b"b", b"b*"),
                               fill=op not in (b"S", b"s"), even_odd=op.endswith(b"*"))
                if clip_rule is not None:
                    state.clips = (*state.clips, self.clip_box(number, path))
                    clip_rule = None
                path = []
            elif op == b"w":
                state.line_width = float(args[0])
            elif op == b"J":
                state.cap = int(args[0])
            elif op == b"j":
                state.join = int(args[0])
            elif op == b"M":
                state.miter = float(args[0])
            elif op == b"d":
                state.dash = (tuple(float(v) for v in args[0]), float(args[1]))
            elif op in (b"rg", b"g"):
                state.fill = _color(args, number)
            elif op in (b"RG", b"G"):
                state.stroke = _color(args, number)
            elif op == b"gs":
                ref = states.raw_get(f"/{args[0][1]}") if f"/{args[0][1]}" in states else None
                if ref is None:
                    raise Unsupported(f"第{number}页引用了不存在的图形状态，不能写入OFD。")
                stroke, fill = self.alpha(ref)
                state.stroke_alpha = state.stroke_alpha if stroke is None else stroke
                state.fill_alpha = state.fill_alpha if fill is None else fill
            elif op == b"BT":
                text_matrix = line_matrix = (1, 0, 0, 1, 0, 0)
            elif op == b"ET":
                pass
            elif op == b"Tf":
                if f"/{args[0][1]}" not in fonts:
                    raise Unsupported(f"第{number}页引用了不存在的字体，不能写入OFD。")
                state.font = self.font(fonts.raw_get(f"/{args[0][1]}"))
                state.font_size = float(args[1])
            elif op == b"Tm":
                text_matrix = line_matrix = tuple(float(v) for v in args)
            elif op == b"Td":
                line_matrix = text_matrix = _multiply((1, 0, 0, 1, float(args[0]), float(args[1])), line_matrix)
            elif op in (b"TJ", b"Tj"):
                items = args[0] if op == b"TJ" else [args[0]]
                text_matrix = self.show(number, page, state, text_matrix, items)
            elif op == b"Do":
                self.draw(number, page, state, xobjects, args[0][1], resources)
            elif op in (b"Tc", b"Tw", b"Tz", b"TL", b"Ts", b"Tr", b"T*", b"'", b'"', b"TD"):
                if op in (b"Tc", b"Tw", b"Ts") and float(args[0]) == 0 or op == b"Tz" and float(args[0]) == 100:
                    continue
                if op == b"Tr" and int(args[0]) == 0:
                    continue
                raise Unsupported(f"第{number}页使用了OFD写出器不支持的文字设置（{op.decode()}）。")
            elif op in (b"cs", b"CS", b"sc", b"scn", b"SC", b"SCN", b"k", b"K"):
                raise Unsupported(f"第{number}页使用了OFD写出器不支持的颜色空间或图案填充。")
            elif op == b"sh":
                raise Unsupported(f"第{number}页使用了渐变填充，OFD写出器不能表达。")
            elif op in (b"BI", b"ID", b"EI"):
                raise Unsupported(f"第{number}页含有内嵌图片，OFD写出器不能表达。")
            elif op in (b"BDC", b"BMC", b"EMC", b"MP", b"DP", b"ri", b"i"):
                continue
            else:
                raise Unsupported(f"第{number}页使用了OFD写出器不认识的PDF操作“{op.decode('latin-1')}”。")

    def clip_box(self, number: int, path) -> tuple[float, float, float, float]:
        rects = [_rect_of(sub) for sub in path]
        if len(rects) == 1 and rects[0] is not None:
            return rects[0]
        # Another shape: kept as its bounding box; whatever it would cut is refused when drawn.
        xs = [v for sub in path for op in sub for v in op[1::2]]
        ys = [v for sub in path for op in sub for v in op[2::2]]
        return (min(xs), min(ys), max(xs), max(ys), "shape")

    def paint(self, number, page, state: _State, path, *, stroke, fill, even_odd) -> None:
        scale = (abs(state.ctm[0] * state.ctm[3] - state.ctm[1] * state.ctm[2])) ** 0.5
        dash, offset = state.dash
        shape = Path([list(sub) for sub in path if sub], stroke, fill, even_odd, state.line_width * scale,
                     state.stroke, state.fill, state.stroke_alpha, state.fill_alpha, _CAPS.get(state.cap, "Butt"),
                     _JOINS.get(state.join, "Miter"), state.miter, tuple(v * scale for v in dash), offset * scale)
        if not shape.subpaths:
            return
        if shape.fill and not shape.stroke and shape.even_odd and len(shape.subpaths) > 1:
            # Borders come as a ring of two rectangles filled even-odd; as disjoint rectangles
            # they need no fill rule, which not every OFD reader honours.
            rects = [_rect_of(sub) for sub in shape.subpaths]
            if all(r is not None for r in rects):
                whole = (min(r[0] for r in rects), min(r[1] for r in rects),
                         max(r[2] for r in rects), max(r[3] for r in rects))
                shape.subpaths, shape.even_odd = _rect_path(_cut(rects, True, whole)), False
                if not shape.subpaths:
                    return
        for clip in state.clips:
            if _inside(shape.bbox(), clip):
                continue
            shape = self.cut(number, shape, clip)
            if shape is None:
                return
        page.objects.append(shape)

    def cut(self, number, shape: Path, clip) -> Path | None:
        """`shape` within the axis-aligned `clip`, when both are made of axis-aligned rectangles."""
        cannot = Unsupported(f"第{number}页有被裁剪的图形，OFD写出器只能裁剪水平、垂直的矩形和线条。")
        if len(clip) != 4:
            raise cannot
        if shape.fill and not shape.stroke:
            rects = [_rect_of(sub) for sub in shape.subpaths]
            if any(r is None for r in rects):
                raise cannot
            rects = _cut(rects, shape.even_odd, clip)
        elif shape.stroke and not shape.fill and not shape.dash and shape.cap in ("Butt", "Square"):
            rects = []
            grow_end = shape.line_width / 2 if shape.cap == "Square" else 0.0
            half = shape.line_width / 2
            for sub in shape.subpaths:
                points = [op[1:3] for op in sub if op[0] in ("M", "L")]
                if len(points) != 2 or any(op[0] in ("B", "C") for op in sub):
                    raise cannot
                (x0, y0), (x1, y1) = points
                if abs(y0 - y1) < 1e-9:
                    rect = (min(x0, x1) - grow_end, y0 - half, max(x0, x1) + grow_end, y0 + half)
                elif abs(x0 - x1) < 1e-9:
                    rect = (x0 - half, min(y0, y1) - grow_end, x0 + half, max(y0, y1) + grow_end)
                else:
                    raise cannot
                rects.append(rect)
            rects = _cut(rects, False, clip)
            shape = Path([], False, True, fill_color=shape.stroke_color, fill_alpha=shape.stroke_alpha)
        else:
            raise cannot
        if not rects:
            return None
        shape.subpaths, shape.even_odd = _rect_path(rects), False
        return shape

    def show(self, number, page, state: _State, text_matrix, items):
        font = state.font
        if font is None:
            raise Unsupported(f"第{number}页的文字没有指定字体，不能写入OFD。")
        size = state.font_size
        matrix = _multiply(text_matrix, state.ctm)
        if abs(matrix[1]) > 1e-9 or abs(matrix[2]) > 1e-9 or abs(abs(matrix[0]) - abs(matrix[3])) > 1e-6 * abs(matrix[0]):
            raise Unsupported(f"第{number}页有旋转、倾斜或拉伸的文字，OFD写出器不能表达。")
        advance = 0.0  # in text space units (the font size is one unit of 1000)
        xs: list[float] = []
        glyphs: list[int] = []
        chars: list[str] = []
        for item in items:
            if isinstance(item, float):
                advance -= item / 1000 * size
                continue
            for i in range(0, len(item) - 1, 2):
                code = (item[i] << 8) | item[i + 1]
                gid = code if font.codes is None else font.codes.get(code, 0)
                xs.append(advance)
                glyphs.append(gid)
                chars.append(font.unicode.get(code, ""))
                advance += font.widths.get(gid, font.default_width) / 1000 * size
        end = advance
        if glyphs:
            origin_x, baseline = _apply(matrix, 0, 0)
            scale = matrix[0]
            text = Text(font, abs(matrix[3]) * size, baseline, [origin_x + x * scale for x in xs], glyphs, chars,
                        origin_x + end * scale, state.fill, state.fill_alpha)
            box = (min(text.xs[0], text.end), baseline - text.size, max(text.xs[0], text.end), baseline + text.size * 0.3)
            for clip in state.clips:
                if not _inside(box, clip) and not _inside((box[0], baseline - 0.1, box[2], baseline), clip):
                    raise Unsupported(f"第{number}页有文字被裁剪，OFD写出器不能表达被裁剪的文字。")
            page.objects.append(text)
        return _multiply((1, 0, 0, 1, end, 0), text_matrix)

    def draw(self, number, page, state: _State, xobjects, name, resources) -> None:
        ref = xobjects.raw_get(f"/{name}") if f"/{name}" in xobjects else None
        if ref is None:
            raise Unsupported(f"第{number}页引用了不存在的图片，不能写入OFD。")
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Form":
            inner = state.copy()
            if "/Matrix" in xobject:
                inner.ctm = _multiply(tuple(float(v) for v in xobject["/Matrix"]), inner.ctm)
            self.run(number, xobject.get_data(), xobject.get("/Resources") or resources, inner, page)
            return
        if xobject.get("/Subtype") != "/Image":
            raise Unsupported(f"第{number}页含有OFD写出器不支持的对象。")
        m = state.ctm
        if abs(m[1]) > 1e-9 or abs(m[2]) > 1e-9:
            raise Unsupported(f"第{number}页有旋转的图片，OFD写出器不能表达。")
        corners = [_apply(m, 0, 0), _apply(m, 1, 1)]
        box = (min(c[0] for c in corners), min(c[1] for c in corners),
               max(c[0] for c in corners), max(c[1] for c in corners))
        if m[0] < 0 or m[3] > 0:  # PDF images are drawn upside down in y-down space unless flipped
            raise Unsupported(f"第{number}页有翻转的图片，OFD写出器不能表达。")
        for clip in state.clips:
            if not _inside(box, clip):
                raise Unsupported(f"第{number}页有被裁剪的图片，OFD写出器不能表达。")
        page.objects.append(self.image(ref, box))

    def outlines(self, page_numbers: dict[int, int]) -> list[Outline]:
        def walk(items) -> list[Outline]:
            result: list[Outline] = []
            for item in items:
                if isinstance(item, list):
                    if result:
                        result[-1].children.extend(walk(item))
                    else:
                        result.extend(walk(item))
                    continue
                page_index = top = None
                try:
                    page_index = self.reader.get_destination_page_number(item)
                except Exception:  # noqa: BLE001 - an outline without a page destination
                    page_index = None
                if page_index is not None and page_index >= 0:
                    media = self.reader.pages[page_index].mediabox
                    raw_top = item.get("/Top") if hasattr(item, "get") else None
                    if raw_top is not None and not isinstance(raw_top, type(None)):
                        try:
                            top = max(0.0, (float(media[3]) - float(raw_top)) * PT_MM)
                        except (TypeError, ValueError):
                            top = None
                result.append(Outline(str(item.title), page_index, top))
            return result

        return walk(self.reader.outline or [])


def read(pdf: bytes) -> Layout:
    """The laid-out pages, fonts, images, bookmarks and metadata of `pdf`."""
    reader = _Reader(pdf)
    pages = [reader.page(n + 1, p) for n, p in enumerate(reader.reader.pages)]
    info = {}
    meta = reader.reader.metadata or {}
    for key in ("/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/Producer"):
        if meta.get(key):
            info[key[1:].lower()] = str(meta[key])
    return Layout(pages, list(reader.fonts.values()), list(reader.images.values()), reader.outlines({}), info)
