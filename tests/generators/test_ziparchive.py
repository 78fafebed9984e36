import io
import zipfile

from generators.ziparchive import Member, write_zip


def test_archive_reads_back_with_zipfile():
    parts = {"[Content_Types].xml": b"<Types/>" * 100, "word/document.xml": "正文".encode() * 1000, "中文名.txt": b"x"}
    data = write_zip([Member.compress(n, d) for n, d in parts.items()])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == list(parts)
        for name, content in parts.items():
            assert zf.read(name) == content
            assert zf.getinfo(name).compress_type == zipfile.ZIP_DEFLATED


def test_identical_input_gives_identical_bytes():
    members = [Member.compress("a.xml", b"<a/>")]
    assert write_zip(members) == write_zip(members)


def test_precompressed_member_is_reused_verbatim():
    member = Member.compress("styles.xml", b"<w:styles>" + b"x" * 10000 + b"</w:styles>")
    data = write_zip([member, Member.compress("d.xml", b"<d/>")])
    assert member.compressed in data
    assert len(member.compressed) < 200  # deflated, not stored
