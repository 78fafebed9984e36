"""Shared PDF infrastructure: HTML → PDF with weasyprint, for every PDF output of jxdoc.

Three things every PDF needs and that must not be improvised per document kind:

* Fonts. Documents name official faces (仿宋_GB2312, 方正小标宋简体, …) that the project maps onto
  open CJK fonts in `templates/official/fonts/fonts.conf`. weasyprint's `FontConfiguration` loads
  fontconfig's configuration from FONTCONFIG_FILE when it is created, so the file is pointed to
  only while the one configuration of the process is created: weasyprint then has our mapping
  whether or not it was imported earlier, and the rest of the process (and the subprocesses it
  starts, such as LibreOffice) keep the system configuration.
* Safety. User text ends up in HTML. The URL fetcher serves only files bundled under
  `templates/` (stylesheets, images, fonts) and refuses every other URL: other files, http(s),
  data:, loopback and metadata addresses. PDF attachments (`<link rel=attachment>`,
  `<a rel=attachment>`, the `attachments` option) are dropped before the PDF is written.
* Speed. The font configuration and the compiled stylesheets are built once per process and
  reused; weasyprint's layout caches live in the font configuration. Font subsets are made in one
  HarfBuzz pass, from views of the faces without variation sequences, and kept with their deflated
  streams; streams are deflated at level 6; the user-agent stylesheet gives pseudo-elements only to
  the elements that can have them; tinyhtml5 finds its scanning patterns in its cache.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import importlib.metadata
import mimetypes
import os
import re
import struct
import subprocess
import threading
import weakref
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
FONTS_CONF = TEMPLATES_DIR / "official" / "fonts" / "fonts.conf"

# What the fetcher may serve from the bundled folders: styles, images and fonts, never the
# templates themselves, configuration or anything executable.
ASSET_SUFFIXES = frozenset({".css", ".svg", ".png", ".jpg", ".jpeg", ".gif", ".otf", ".ttf", ".woff", ".woff2"})


class RefusedURL(ValueError):
    """The fetcher refused a URL that is not a bundled asset."""


class SafeURLFetcher(URLFetcher):
    """A weasyprint (≥ 68) URL fetcher that serves only bundled files.

    weasyprint calls `fetch(url)` for every stylesheet, image, font and attachment it wants.
    A URL is served only when it is a `file:` URL whose real path (symlinks resolved) lies inside
    one of `roots` and has an asset suffix; anything else raises `RefusedURL`, which weasyprint
    turns into a logged warning and a missing resource. `requested` and `refused` record every
    URL asked for, so tests (and audits) can see that nothing else was fetched.
    """

    def __init__(self, roots: Iterable[Path] = (TEMPLATES_DIR,)):
        # No redirects and no protocols other than file:, should a caller reach the base class.
        super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)
        self.roots = tuple(Path(r).resolve() for r in roots)
        self.requested: list[str] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()

    def resolve(self, url: str) -> Path | None:
        """The bundled file a URL names, or None when it must not be served."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            return None
        if path.suffix.lower() not in ASSET_SUFFIXES or not path.is_file():
            return None
        if not any(path.is_relative_to(root) for root in self.roots):
            return None
        return path

    def fetch(self, url, headers=None):
        with self._lock:
            self.requested.append(url)
        path = self.resolve(url)
        if path is None:
            with self._lock:
                self.refused.append(url)
            raise RefusedURL(f"只能引用项目自带的模板资源，已拒绝：{url[:200]}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


# --- fonts ---------------------------------------------------------------------------------------

_font_lock = threading.Lock()
_font_config: FontConfiguration | None = None


def font_config() -> FontConfiguration:
    """The process-wide weasyprint font configuration, loaded from the project's fonts.conf."""
    global _font_config
    if _font_config is None:
        with _font_lock:
            if _font_config is None:
                if not FONTS_CONF.is_file():
                    raise RuntimeError(f"找不到字体配置文件 {FONTS_CONF}，请检查项目文件是否完整。")
                previous = os.environ.get("FONTCONFIG_FILE")
                os.environ["FONTCONFIG_FILE"] = str(FONTS_CONF)
                try:
                    # fontconfig reads FONTCONFIG_FILE when this configuration is loaded.
                    _font_config = FontConfiguration()
                finally:
                    if previous is None:
                        os.environ.pop("FONTCONFIG_FILE", None)
                    else:
                        os.environ["FONTCONFIG_FILE"] = previous
    return _font_config


class FaceMetrics(NamedTuple):
    """A face's ascent and descent, in em, as weasyprint lays lines out with them: HarfBuzz's
    (OS/2 typo metrics when the face asks for them, else hhea, else OS/2 win)."""

    file: str
    ascent: float
    descent: float


@functools.lru_cache(maxsize=64)
def face_metrics(family: str) -> FaceMetrics:
    """The metrics of the face the project's fontconfig (fonts.conf) gives for `family`, read from
    the font file itself, once per family and process."""
    from fontTools.ttLib import TTFont

    # fc-match with the project's fonts.conf and nothing else of this process's environment
    # (its caches under HOME, the program on PATH).
    env = {"FONTCONFIG_FILE": str(FONTS_CONF), "PATH": os.environ.get("PATH", os.defpath),
           "HOME": os.environ.get("HOME", "/tmp")}  # noqa: S108 - fontconfig's cache, not a temp file
    found = subprocess.run(["fc-match", "-f", "%{file}\n%{index}", family], capture_output=True, text=True,
                           env=env, check=True, timeout=30).stdout.split("\n")
    path, index = found[0], int(found[1] or 0)
    with TTFont(path, fontNumber=index, lazy=True) as font:
        upm, hhea, os2 = font["head"].unitsPerEm, font["hhea"], font.get("OS/2")
    if os2 is not None and os2.fsSelection & (1 << 7) and (os2.sTypoAscender or os2.sTypoDescender):
        ascent, descent = os2.sTypoAscender, -os2.sTypoDescender
    elif hhea.ascent or hhea.descent:
        ascent, descent = hhea.ascent, -hhea.descent
    else:
        ascent, descent = os2.usWinAscent, os2.usWinDescent
    return FaceMetrics(path, ascent / upm, descent / upm)


# --- font subsets --------------------------------------------------------------------------------

# weasyprint subsets every embedded font for every PDF. For the big CJK faces (Noto CJK has
# 65 535 glyph slots and weasyprint keeps glyph ids) subsetting is most of a short document's
# rendering time (figures here and below: bench/FIGURES.md). Many PDFs reuse a glyph set exactly: the page
# numbers (“— 1 —”), a bureau's mark, re-rendered previews. So subsets are kept, keyed by the font
# and the glyph ids; a new glyph set is subset as usual.
# Bounded by bytes, not entries: a CJK subset of a long document is large, and in a batch where
# every unit has other names almost every glyph set is new, so a count of entries bounds nothing.
_SUBSET_CACHE_MAX = 256
_SUBSET_CACHE_BYTES = 48 * 2**20
_subset_cache: dict[tuple, bytes] = {}
_subset_size = [0]  # bytes held by _subset_cache and _deflated
_subset_lock = threading.Lock()
# A kept subset is embedded again as the same bytes object, so its deflated stream is kept with it:
# id(subset) -> (subset, deflated or None until first written): zlib is not paid again for a PDF
# whose fonts repeat (a preview downloaded again, the body faces of a batch's units).
_deflated: dict[int, tuple[bytes, bytes | None]] = {}


def _evict(entries: int, size: int) -> None:
    """Drop the oldest subsets until `entries` and `size` bytes more fit (the lock held)."""
    while _subset_cache and (len(_subset_cache) + entries > _SUBSET_CACHE_MAX
                             or _subset_size[0] + size > _SUBSET_CACHE_BYTES):
        old = _subset_cache.pop(next(iter(_subset_cache)))
        _subset_size[0] -= len(old) + len(_deflated.pop(id(old), (b"", None))[1] or b"")


def _keep_subset(key: tuple, content: bytes) -> None:
    with _subset_lock:
        _evict(1, len(content))
        if key not in _subset_cache:
            _subset_cache[key] = content
            _deflated[id(content)] = (content, None)
            _subset_size[0] += len(content)


def _kept_deflated(data: bytes, deflate) -> bytes | None:
    """The deflated stream of `data` when it is a kept subset (made by `deflate` the first time),
    else None."""
    entry = _deflated.get(id(data))
    if entry is None or entry[0] is not data:
        return None
    if entry[1] is None:
        packed = deflate(data)
        with _subset_lock:
            _evict(0, len(packed))
            if _deflated.get(id(data), (None,))[0] is data:  # still kept
                _deflated[id(data)] = (data, packed)
                _subset_size[0] += len(packed)
        return packed
    return entry[1]


def _install_subset_cache() -> None:
    from weasyprint.pdf import fonts as wp_fonts

    font_class = getattr(wp_fonts, "Font", None)
    original = getattr(font_class, "subset", None)
    if original is None or getattr(original, "_jxdoc_cached", False):
        return  # another weasyprint layout, or already installed: leave weasyprint as it is

    harfbuzz_subset = _harfbuzz_subset(wp_fonts)

    def subset(self, to_unicode, hinting):
        if not to_unicode:
            return original(self, to_unicode, hinting)
        content = self.file_content
        key = (self.family, self.index, len(content), hashlib.blake2b(content[:65536]).digest(),
               frozenset(to_unicode), bool(hinting), frozenset(self.missing))
        cached = _subset_cache.get(key)
        if cached is not None:
            self.file_content = cached
            return None
        done = harfbuzz_subset is not None and harfbuzz_subset(self, to_unicode, hinting)
        result = None if done else original(self, to_unicode, hinting)
        content = self.file_content
        if len(content) > _SUBSET_CACHE_BYTES // 4:
            return result  # too big to be worth keeping
        _keep_subset(key, content)
        return result

    subset._jxdoc_cached = True
    font_class.subset = subset

    # weasyprint serialises the whole font (a Noto CJK face is large) into a new bytes object
    # for every font of every PDF, only to read its first bytes and then subset it through the
    # HarfBuzz face. The faces live in the process-wide font configuration, so the bytes are kept
    # per face; the cache holds a reference on the face, so its address cannot be reused by
    # another font. A handful of faces, held once per process, for time saved on every PDF.
    original_data = getattr(wp_fonts, "get_hb_object_data", None)
    if original_data is None or getattr(original_data, "_jxdoc_cached", False):
        return
    from weasyprint.text.ffi import ffi, harfbuzz

    def face_data(hb_object, ot_color=None, glyph=None):
        if ot_color is not None:
            return original_data(hb_object, ot_color, glyph)
        key = int(ffi.cast("uintptr_t", hb_object))
        hit = _face_data.get(key)
        if hit is not None:
            return hit[1]
        data = original_data(hb_object)
        # Only the installed faces are worth keeping. weasyprint also serialises each PDF's own
        # subset face through here: those are small, new for every document, and keeping them
        # (with a reference on their face) grew a disclosure worker with every PDF.
        if data is None or len(data) < _FACE_DATA_MIN_BYTES or len(_face_data) >= _FACE_DATA_MAX:
            return data
        keep = ffi.gc(harfbuzz.hb_face_reference(hb_object), harfbuzz.hb_face_destroy)
        with _subset_lock:
            _face_data[key] = (keep, data)
        return data

    face_data._jxdoc_cached = True
    wp_fonts.get_hb_object_data = face_data


# Tables weasyprint drops from every subset (the layout tables: text is already shaped).
_DROP_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH", b"PCLT", b"SVG ")


def _harfbuzz_subset(wp_fonts):
    """weasyprint's HarfBuzz subset, made in one pass where it can be; or None without
    HarfBuzz-subset 4.1 (weasyprint then falls back to fontTools, as it would).

    weasyprint subsets with the glyph ids retained (the page streams name glyphs by id), then
    subsets the result again, keeping ids 0 to the last one used, to cut glyphs HarfBuzz's closure
    added above it. For a Noto CJK face that second pass walks tens of thousands of glyph slots,
    over half of a subset's time (bench/FIGURES.md). The glyphs added are the variation-sequence forms of the
    characters used (、 with VS2 is glyph 63145 of Noto Sans CJK SC), which come from the cmap's
    format-14 subtable; a PDF never selects a glyph by variation sequence. So a face is subset
    from a view of it without that subtable (`_SubsetSources`): the closure then stops at the
    glyphs used, and the second pass runs only if something else reached past them. The used
    glyphs' outlines and metrics are weasyprint's; the flags are weasyprint's, with the second
    pass's NO_HINTING applied in the first."""
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset

    if harfbuzz_subset is None or not harfbuzz.hb_version_atleast(4, 1, 0):
        return None
    hb = harfbuzz_subset
    drop = tuple(harfbuzz.hb_tag_from_string(name, -1) for name in _DROP_TABLES)
    sources = _SubsetSources.create(ffi, harfbuzz)

    def subset(face, glyphs, flags):
        hb_input = ffi.gc(hb.hb_subset_input_create_or_fail(), hb.hb_subset_input_destroy)
        if not hb_input:
            return None
        harfbuzz.hb_set_add_sorted_array(hb.hb_subset_input_glyph_set(hb_input),
                                         ffi.new("hb_codepoint_t[]", glyphs), len(glyphs))
        harfbuzz.hb_set_add_sorted_array(hb.hb_subset_input_set(hb_input, hb.HB_SUBSET_SETS_DROP_TABLE_TAG),
                                         ffi.new("hb_codepoint_t[]", drop), len(drop))
        hb.hb_subset_input_set_flags(hb_input, flags)
        result = ffi.gc(hb.hb_subset_or_fail(face, hb_input), harfbuzz.hb_face_destroy)
        return result if result else None

    def subset_data(source, glyphs, flags) -> bytes | None:
        face = subset(source, glyphs, flags | hb.HB_SUBSET_FLAGS_RETAIN_GIDS)
        if face is not None and harfbuzz.hb_face_get_glyph_count(face) > glyphs[-1] + 1:
            face = subset(face, list(range(glyphs[-1] + 1)), flags)
        return wp_fonts.get_hb_object_data(face) if face is not None else None

    def run(font, to_unicode, hinting) -> bool:
        glyphs = sorted(to_unicode)
        flags = hb.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED | hb.HB_SUBSET_FLAGS_DESUBROUTINIZE
        if not hinting:
            flags |= hb.HB_SUBSET_FLAGS_NO_HINTING
        if font.missing:
            flags |= hb.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
        source = sources.source(font.hb_face) if sources is not None else None
        if source is None or source.trusted is False:
            data = subset_data(font.hb_face, glyphs, flags)
        else:
            data = subset_data(source.face, glyphs, flags)
            if source.trusted is None:
                # The first subset of each face is checked against the face's own: the same
                # tables and every glyph up to the last one used. A HarfBuzz that cannot subset
                # the view gives something else, and the face is then subset as weasyprint does.
                own = subset_data(font.hb_face, glyphs, flags)
                source.trusted = bool(data and own and _sfnt_tags(data) == _sfnt_tags(own)
                                      and _glyph_count(data) == glyphs[-1] + 1)
                if not source.trusted:
                    data = own
        if not data:
            return False  # weasyprint's own subset then tries, and warns if it fails too
        font.file_content = data
        return True

    return run


def _sfnt_tags(data: bytes) -> frozenset[bytes]:
    """The table tags of an OpenType font file."""
    (count,) = struct.unpack_from(">H", data, 4)
    return frozenset(data[12 + 16 * i:16 + 16 * i] for i in range(count))


def _glyph_count(data: bytes) -> int:
    """numGlyphs of an OpenType font file's maxp table."""
    (count,) = struct.unpack_from(">H", data, 4)
    for i in range(count):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"maxp":
            return struct.unpack_from(">H", data, offset + 4)[0]
    return -1


def without_variation_sequences(cmap: bytes) -> bytes | None:
    """The cmap table `cmap` without its format-14 (Unicode variation sequence) subtables, or
    None when it has none. Only the encoding records change: every subtable stays at its offset,
    and the records freed at the end of the list become zero bytes no offset points into."""
    if len(cmap) < 4:
        return None
    version, count = struct.unpack_from(">HH", cmap)
    if len(cmap) < 4 + 8 * count:
        return None
    records = [struct.unpack_from(">HHI", cmap, 4 + 8 * i) for i in range(count)]
    keep = [r for r in records if r[2] + 2 > len(cmap) or struct.unpack_from(">H", cmap, r[2])[0] != 14]
    if len(keep) == count:
        return None
    head = struct.pack(">HH", version, len(keep)) + b"".join(struct.pack(">HHI", *r) for r in keep)
    return head + bytes(4 + 8 * count - len(head)) + cmap[4 + 8 * count:]


class _SubsetSource:
    """A face to subset from, in place of an installed face: its tables, but a cmap without
    variation sequences. `trusted` is None until its first subset has been checked."""

    def __init__(self, face, keep: tuple):
        self.face = face
        self.keep = keep  # what the view's callback needs alive: the installed face, the cmap
        self.trusted: bool | None = None


class _SubsetSources:
    """The subset source of each installed face, made once per face and process (a view:
    HarfBuzz asks a callback for each table, so nothing of the 15–20 MB face is copied)."""

    MAX = 32  # installed faces; PDFs' own faces never come here

    def __init__(self, ffi, harfbuzz):
        self.ffi, self.harfbuzz = ffi, harfbuzz
        self.cmap_tag = harfbuzz.hb_tag_from_string(b"cmap", -1)
        self.sources: dict[int, _SubsetSource | None] = {}

    @classmethod
    def create(cls, ffi, harfbuzz):
        """None when this HarfBuzz binding cannot make views (then faces are subset as they are)."""
        try:
            ffi.cdef("""
                typedef hb_blob_t * (*jxdoc_reference_table_func_t) (hb_face_t *face, hb_tag_t tag, void *user_data);
                typedef void (*jxdoc_destroy_func_t) (void *user_data);
                hb_face_t * hb_face_create_for_tables (jxdoc_reference_table_func_t reference_table_func,
                                                       void *user_data, jxdoc_destroy_func_t destroy);
                hb_blob_t * hb_blob_create (const char *data, unsigned int length, int mode,
                                            void *user_data, jxdoc_destroy_func_t destroy);
                hb_blob_t * hb_blob_reference (hb_blob_t *blob);
            """, override=True)
            # declared after weasyprint opened the library: resolved now, or the binding lacks them
            harfbuzz.hb_face_create_for_tables, harfbuzz.hb_blob_create, harfbuzz.hb_blob_reference  # noqa: B018
        except Exception:  # noqa: BLE001 - an older cffi or HarfBuzz: subset the faces themselves
            return None
        return cls(ffi, harfbuzz)

    def source(self, face) -> _SubsetSource | None:
        key = int(self.ffi.cast("uintptr_t", face))
        if key in self.sources:
            return self.sources[key]
        if len(self.sources) >= self.MAX:
            return None
        made = self._make(face)
        with _subset_lock:
            self.sources[key] = made
        return made

    def _make(self, face) -> _SubsetSource | None:
        ffi, hb = self.ffi, self.harfbuzz
        blob = hb.hb_face_reference_table(face, self.cmap_tag)
        length = ffi.new("unsigned int *")
        cmap = bytes(ffi.buffer(hb.hb_blob_get_data(blob, length), length[0])) if blob else b""
        hb.hb_blob_destroy(blob)
        lean = without_variation_sequences(cmap)
        if lean is None:
            return None  # nothing for the closure to add: the face is its own source
        installed = ffi.gc(hb.hb_face_reference(face), hb.hb_face_destroy)
        data = ffi.new("char[]", lean)
        lean_blob = ffi.gc(hb.hb_blob_create(data, len(lean), 1, ffi.NULL, ffi.NULL), hb.hb_blob_destroy)  # READONLY
        cmap_tag = self.cmap_tag

        @ffi.callback("jxdoc_reference_table_func_t")
        def table(_face, tag, _user_data):
            return hb.hb_blob_reference(lean_blob) if tag == cmap_tag else hb.hb_face_reference_table(installed, tag)

        view = ffi.gc(hb.hb_face_create_for_tables(table, ffi.NULL, ffi.NULL), hb.hb_face_destroy)
        return _SubsetSource(view, (installed, data, lean_blob, table))


_face_data: dict[int, tuple] = {}
_FACE_DATA_MIN_BYTES = 4 * 2**20  # the CJK faces are 15–20 MB; subsets a few hundred KB
_FACE_DATA_MAX = 32


# --- HTML parsing ----------------------------------------------------------------------------------

# tinyhtml5 (weasyprint's HTML parser) caches the pattern of each character class it scans for, but
# under the wrong key: `characters = cache[(characters, opposite)] = regex` rebinds `characters`
# before the key is made, so no lookup ever hits and every scan builds its pattern again — a third
# of the time parsing a 12 KB document takes. The pattern is filed under the right key first; the
# scan itself is tinyhtml5's.
def _install_parser_cache() -> None:
    try:
        from tinyhtml5 import inputstream
    except ImportError:
        return
    cache = getattr(inputstream, "characters_until_regex", None)
    stream = getattr(inputstream, "HTMLUnicodeInputStream", None)
    original = getattr(stream, "chars_until", None)
    if not isinstance(cache, dict) or original is None or getattr(original, "_jxdoc_cached", False):
        return

    def chars_until(self, characters, opposite=False):
        key = (characters, opposite)
        if key not in cache:
            body = "".join(f"\\x{ord(character):02x}" for character in characters)
            cache[key] = re.compile(f"[{body if opposite else '^' + body}]+")
        return original(self, characters, opposite)

    chars_until._jxdoc_cached = True
    chars_until._jxdoc_original = original
    stream.chars_until = chars_until



# --- stream compression --------------------------------------------------------------------------

# pydyf deflates every PDF stream at level 9. On a disclosure PDF (subset CJK fonts, page streams)
# zlib's default level 6 writes files hardly larger in about half the time (bench/FIGURES.md).
PDF_DEFLATE_LEVEL = 6


class _CappedZlib:
    """zlib as pydyf sees it, its compression level capped at `level`."""

    def __init__(self, level: int):
        self.level = level

    def _capped(self, level: int) -> int:
        return self.level if level < 0 or level > self.level else level

    def compressobj(self, level: int = -1, *args, **kwargs):
        return _Deflater(lambda: zlib.compressobj(self._capped(level), *args, **kwargs))

    def compress(self, data, level: int = -1):
        return zlib.compress(data, self._capped(level))

    def __getattr__(self, name: str):
        return getattr(zlib, name)


class _Deflater:
    """A zlib compressor as pydyf uses one (all of a stream to compress(), then flush()), which
    gives a kept font subset's deflated bytes again instead of deflating them again."""

    def __init__(self, make):
        self._make = make  # a zlib compressor of the settings asked for
        self._compressor = None  # made on the first stream that is not a kept one
        self._whole = False  # a kept stream was given: nothing may follow it

    def compress(self, data) -> bytes:
        if self._whole:
            raise RuntimeError("a kept stream was given whole: nothing may follow it")
        if self._compressor is None:
            kept = _kept_deflated(data, self._deflate) if isinstance(data, bytes) else None
            if kept is not None:
                self._whole = True
                return kept
            self._compressor = self._make()
        return self._compressor.compress(data)

    def flush(self, *args) -> bytes:
        if self._whole:
            return b""
        return (self._compressor or self._make()).flush(*args)

    def _deflate(self, whole: bytes) -> bytes:
        compressor = self._make()
        return compressor.compress(whole) + compressor.flush()


def _install_deflate_level() -> None:
    import pydyf

    if getattr(pydyf, "zlib", None) is zlib:  # not when pydyf changed how it compresses
        pydyf.zlib = _CappedZlib(PDF_DEFLATE_LEVEL)



# --- the patches, checked and installed once --------------------------------------------------

# The three speed-ups above replace private functions of weasyprint (font subsets), tinyhtml5 (the
# parser's pattern cache) and pydyf (the deflate level). They were written against these versions,
# which pyproject.toml pins: another version may have moved or changed what they replace, so
# `install_patches` refuses it until the patches have been reviewed against it (and
# tests/generators/test_pdf_patches.py fails on it).
PATCHED_VERSIONS = {"weasyprint": "70.0", "tinyhtml5": "2.1.0", "pydyf": "0.13.0"}
PATCHES = (("weasyprint", _install_subset_cache), ("tinyhtml5", _install_parser_cache), ("pydyf", _install_deflate_level))


class PatchedVersionError(RuntimeError):
    """A library is not the version generators/pdf.py patches."""


def check_version(library: str, installed: str | None = None) -> None:
    installed = installed if installed is not None else importlib.metadata.version(library)
    wanted = PATCHED_VERSIONS[library]
    if installed != wanted:
        raise PatchedVersionError(
            f"generators/pdf.py patches {library} {wanted}, but {library} {installed} is installed. "
            f"Install {library}=={wanted} (pyproject.toml pins it), or review the patch of {library} in "
            f"generators/pdf.py against {installed} and then update PATCHED_VERSIONS and the pin.")


def install_patches() -> None:
    """Check each patched library's version, then install its patch (each once per process)."""
    for library, install in PATCHES:
        check_version(library)
        install()


install_patches()


# --- stylesheets ---------------------------------------------------------------------------------

_css_lock = threading.Lock()
_css_cache: dict[str, CSS] = {}
_CSS_CACHE_MAX = 64  # distinct bureau layouts per process; more is a leak, not a use case


def compile_css(text: str, base_url: Path = TEMPLATES_DIR) -> CSS:
    """A compiled weasyprint stylesheet for `text`, parsed once per process per distinct text."""
    key = hashlib.sha256(f"{base_url}\0{text}".encode()).hexdigest()
    css = _css_cache.get(key)
    if css is None:
        css = CSS(string=text, base_url=_dir_url(base_url), url_fetcher=SafeURLFetcher(),
                  font_config=font_config())
        if "note(" not in text and ("footnote" not in text or all(p in text for p in _OWN_FOOTNOTE_STYLES)):
            _lean_sheets.add(css)
        with _css_lock:
            if len(_css_cache) >= _CSS_CACHE_MAX:
                _css_cache.clear()
            _css_cache[key] = css
    return css


def _dir_url(path: Path) -> str:
    return Path(path).resolve().as_uri() + "/"


# --- user-agent stylesheet ------------------------------------------------------------------------

# weasyprint's user-agent stylesheet styles six pseudo-elements of *every* element (`::marker`,
# `::footnote-call`, `::footnote-marker`, `::note-call`, `::note-marker`, `::note-callback`), and
# the cascade computes a style for each: a table cell costs seven styles instead of one, about 4 %
# of a disclosure PDF's time. Only list items have markers and only elements floated as footnotes
# or placed as notes have the others, so the lean sheet gives `::marker` to `li` (another element
# made a list item by an author's `display` keeps its marker, with the default style) and leaves
# the footnote and note defaults out. A document whose styles place notes or float footnotes
# without styling their call and marker, whose own markup mentions them, or whose stylesheets were
# not compiled here, gets weasyprint's own sheet.
_PSEUDO_DEFAULTS = re.compile(r"^::(?:footnote|note)-[a-z]+ \{[^}\n]*\}\n", re.M)
_NOTES = re.compile(r"footnote|note\(")
# A sheet may float footnotes and still take the lean sheet when it styles their call and marker
# itself (gongwen.css does, for the 版记): weasyprint needs a style for both pseudo-elements.
_OWN_FOOTNOTE_STYLES = ("::footnote-call", "::footnote-marker")
_lean_sheets: weakref.WeakSet = weakref.WeakSet()  # compiled by compile_css, needing no note defaults


def _user_agent_sheets(html: str, stylesheets: Sequence[CSS]) -> list | None:
    """The lean user-agent sheet for a document that needs no notes, or None for weasyprint's."""
    if _NOTES.search(html) or not all(sheet in _lean_sheets for sheet in stylesheets):
        return None
    lean = _lean_user_agent()
    return [lean] if lean is not None else None


@functools.cache
def _lean_user_agent() -> CSS | None:
    from weasyprint.html import UA, UA_COUNTER_STYLE

    lean, notes = _PSEUDO_DEFAULTS.subn("", UA)
    lean, markers = re.subn(r"^::marker \{", "li::marker {", lean, flags=re.M)
    # Another weasyprint may style pseudo-elements otherwise: then its sheet stays.
    return CSS(string=lean, counter_style=UA_COUNTER_STYLE) if (notes, markers) == (5, 1) else None


class _HTML(HTML):
    """weasyprint's HTML with the user-agent sheets chosen per document."""

    def __init__(self, *args, user_agent_sheets: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._user_agent_sheets = user_agent_sheets

    def _ua_stylesheets(self, forms=False):
        if self._user_agent_sheets is None or forms:
            return super()._ua_stylesheets(forms)
        return self._user_agent_sheets


# --- page limit ----------------------------------------------------------------------------------

class TooManyPages(Exception):
    """The document being laid out passed the page limit in force (`page_limit`)."""

    def __init__(self, limit: int):
        super().__init__(f"more than {limit} pages")
        self.limit = limit


class PageMeter:
    """Pages of the PDFs rendered inside one `page_limit` block."""

    def __init__(self, limit: int | None):
        self.limit, self.pages = limit, 0


_page_meter: contextvars.ContextVar[PageMeter | None] = contextvars.ContextVar("jxdoc_pdf_page_meter", default=None)


@contextlib.contextmanager
def page_limit(limit: int | None) -> Iterator[PageMeter]:
    """Within the block, a PDF whose layout reaches page `limit + 1` stops there with
    TooManyPages — the layout of the pages beyond is never done, so a request that asks for
    thousands of pages costs the time of `limit` — and the pages rendered are counted."""
    meter = PageMeter(limit)
    token = _page_meter.set(meter)
    try:
        yield meter
    finally:
        _page_meter.reset(token)


def _install_page_limit() -> None:
    """weasyprint lays pages out one at a time in `make_all_pages` (a generator that
    `layout_document` exhausts, again for each repagination): the limit is checked as each page
    is made."""
    from weasyprint import layout

    make_all_pages = getattr(layout, "make_all_pages", None)
    if make_all_pages is None or getattr(make_all_pages, "_jxdoc_limited", False):
        return

    def limited(context, root_box, html, pages):
        meter = _page_meter.get()
        for number, page in enumerate(make_all_pages(context, root_box, html, pages), 1):
            if meter is not None and meter.limit is not None and number > meter.limit:
                raise TooManyPages(meter.limit)
            yield page

    limited._jxdoc_limited = True
    layout.make_all_pages = limited


_install_page_limit()


# --- rendering -----------------------------------------------------------------------------------

# Pango font maps are not thread-safe; a threaded server renders one PDF at a time per process
# (gunicorn and Celery use processes, so this costs nothing there).
_render_lock = threading.Lock()


class RenderedPdf(NamedTuple):
    data: bytes
    pages: int


# PDF/A for the archive: the variant weasyprint writes (identification and XMP metadata, an sRGB
# output intent, every font embedded). Chosen per request or per batch by `archival()` around the
# rendering, so no renderer has to carry the option.
PDFA_VARIANT = "pdf/a-2b"
_variant: contextvars.ContextVar[str | None] = contextvars.ContextVar("jxdoc_pdf_variant", default=None)


@contextlib.contextmanager
def archival(enabled: bool = True) -> Iterator[None]:
    """PDFs rendered inside the block are PDF/A-2b when `enabled`."""
    token = _variant.set(PDFA_VARIANT if enabled else None)
    try:
        yield
    finally:
        _variant.reset(token)


def render_pdf(
    html: str,
    stylesheets: Sequence[CSS] = (),
    *,
    base_url: Path = TEMPLATES_DIR,
    url_fetcher: SafeURLFetcher | None = None,
    metadata: dict | None = None,
) -> RenderedPdf:
    """Render trusted template output `html` (user text already escaped) to PDF bytes and its
    page count (weasyprint's own, so nobody parses the PDF again to count pages).

    Resources resolve against `base_url` and go through `url_fetcher` (a fresh SafeURLFetcher by
    default). Attachments of any origin are dropped, so the PDF never embeds files. `metadata`
    may give title, description, author or authors (a list), keywords (a list) and created
    (an ISO date); they go to the document information and, for PDF/A, to XMP.
    """
    fetcher = url_fetcher or SafeURLFetcher()
    variant = _variant.get()
    options = _archival_options() if variant else {}
    with _render_lock:
        document = _HTML(string=html, base_url=_dir_url(base_url), url_fetcher=fetcher,
                         user_agent_sheets=_user_agent_sheets(html, stylesheets)).render(
            font_config=font_config(), stylesheets=list(stylesheets), presentational_hints=False, **options
        )
        document.metadata.attachments = []
        for page in document.pages:
            page.links = [link for link in page.links if link[0] != "attachment"]
        if metadata:
            _apply_metadata(document.metadata, metadata)
        if variant:
            options = {"pdf_variant": variant, "output_intent": OUTPUT_INTENT}
        meter = _page_meter.get()
        if meter is not None:
            meter.pages += len(document.pages)
        return RenderedPdf(document.write_pdf(attachments=None, **options), len(document.pages))


OUTPUT_INTENT = "jxdoc-srgb"


def _archival_options() -> dict:
    """The sRGB output intent of PDF/A, as weasyprint's own profile but read once and closed:
    weasyprint's "srgb" intent opens its bundled ICC file for every PDF and never closes it."""
    return {"color_profiles": {OUTPUT_INTENT: _srgb_profile()}, "output_intent": OUTPUT_INTENT}


@functools.cache
def _srgb_profile():
    import importlib.resources
    import io

    from weasyprint.css import ColorProfile

    icc = (importlib.resources.files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
    return ColorProfile(io.BytesIO(icc), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))


def _apply_metadata(target, metadata: dict) -> None:
    for key in ("title", "description"):
        if metadata.get(key):
            setattr(target, key, metadata[key])
    authors = metadata.get("authors") or ([metadata["author"]] if metadata.get("author") else [])
    if authors:
        target.authors = [str(a) for a in authors if a]
    if metadata.get("keywords"):
        target.keywords = [str(k) for k in metadata["keywords"] if k]
    if metadata.get("created"):
        target.created = target.modified = str(metadata["created"])


def html_to_pdf(html: str, stylesheets: Sequence[CSS] = (), **options) -> bytes:
    """render_pdf's bytes."""
    return render_pdf(html, stylesheets, **options).data
