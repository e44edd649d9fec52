"""Evidence files: size and type limits, files lying about their type, atomic storage."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from bot.core.errors import UserError
from bot.i18n import translator
from bot.plans import evidence
from bot.plans.evidence import (
    MAX_BYTES,
    MSG_LYING,
    MSG_NOT_ALLOWED,
    MSG_STORAGE,
    MSG_TOO_LARGE,
    check_file,
    find_link,
    link_evidence,
    sniff,
    store_file,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64


def ooxml(folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}/document.xml", "<x/>")
    return buffer.getvalue()


def opendocument(mimetype: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("content.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (JPEG, "jpeg"),
        (PNG, "png"),
        (WEBP, "webp"),
        (HEIC, "heic"),
        (PDF, "pdf"),
        (OLE, "ole"),
        (ooxml("word"), "docx"),
        (ooxml("xl"), "xlsx"),
        (ooxml("ppt"), "pptx"),
        (opendocument("application/vnd.oasis.opendocument.text"), "odt"),
        (opendocument("application/vnd.oasis.opendocument.spreadsheet"), "ods"),
        (b"MZ\x90\x00 executable", None),
        (b"just some text", None),
    ],
)
def test_sniff(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_plain_zip_is_not_an_office_file() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("virus.exe", "MZ")
    assert sniff(buffer.getvalue()) is None


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (JPEG, "photo.jpg", "image/jpeg"),
        (PDF, "bao-cao.pdf", "application/pdf"),
        (ooxml("word"), "bien-ban.docx", ""),
        (OLE, "so-lieu.xls", "application/vnd.ms-excel"),
        (PNG, "", "image/png"),
        (PDF, "file", ""),  # no extension and no type: trust the bytes
    ],
)
def test_accepted(data: bytes, name: str, mime: str) -> None:
    check_file(data, name, mime)


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (PNG, "bao-cao.pdf", "application/pdf"),
        (PDF, "anh.jpg", "image/jpeg"),
        (ooxml("xl"), "bien-ban.docx", ""),
        (JPEG, "", "application/pdf"),
    ],
)
def test_lying_files_are_refused(data: bytes, name: str, mime: str) -> None:
    with pytest.raises(UserError) as info:
        check_file(data, name, mime)
    assert info.value.message_id == MSG_LYING
    text = translator("vi").gettext(info.value.message_id, **info.value.params)
    assert "thực chất" in text


def test_unknown_types_are_refused() -> None:
    for data, name in ((b"MZ\x90\x00", "tool.exe"), (PDF, "note.txt"), (b"hello", "a.pdf")):
        with pytest.raises(UserError) as info:
            check_file(data, name)
        assert info.value.message_id in (MSG_NOT_ALLOWED, MSG_LYING)


def test_too_large(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        check_file(PDF + b"0" * MAX_BYTES, "big.pdf")
    assert info.value.message_id == MSG_TOO_LARGE
    with pytest.raises(UserError) as declared:
        store_file(tmp_path, PDF, "big.pdf", declared_size=MAX_BYTES + 1)
    assert declared.value.message_id == MSG_TOO_LARGE
    check_file(PDF + b"0" * (MAX_BYTES - len(PDF)), "just-right.pdf")


def test_store_file_by_checksum(tmp_path: Path) -> None:
    stored = store_file(tmp_path, PDF, "Báo cáo quý 1.pdf", "application/pdf", len(PDF))
    digest = hashlib.sha256(PDF).hexdigest()
    assert stored.kind == "document"
    assert stored.sha256 == digest
    assert stored.size == len(PDF)
    assert stored.file_name == "Báo cáo quý 1.pdf"
    assert stored.storage_path == f"{digest[:2]}/{digest}.pdf"
    assert (tmp_path / stored.storage_path).read_bytes() == PDF
    photo = store_file(tmp_path, JPEG, "photo.jpg", "image/jpeg")
    assert (photo.kind, photo.mime_type) == ("photo", "image/jpeg")
    assert not [p for p in tmp_path.rglob(".upload-*")]  # no temporary file left


def test_path_in_name_is_ignored(tmp_path: Path) -> None:
    stored = store_file(tmp_path, PDF, "../../etc/passwd.pdf")
    assert stored.file_name == "passwd.pdf"
    assert (tmp_path / stored.storage_path).is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_directory_gives_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(UserError) as info:
            store_file(locked, PDF, "a.pdf")
    finally:
        locked.chmod(0o700)
    assert info.value.message_id == MSG_STORAGE
    assert "Nhiệm vụ chưa thay đổi" in translator("vi").gettext(MSG_STORAGE)


def test_disk_full_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(evidence.os, "fsync", full)
    with pytest.raises(UserError) as info:
        store_file(tmp_path, PDF, "a.pdf")
    assert info.value.message_id == MSG_STORAGE
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_links() -> None:
    assert (
        find_link("minh chứng ở đây: https://drive.google.com/x/abc. Cảm ơn")
        == "https://drive.google.com/x/abc"
    )
    assert find_link("không có link") is None
    stored = link_evidence("https://zalo.example/photo.jpg", "photo.jpg")
    assert (stored.kind, stored.url) == ("link", "https://zalo.example/photo.jpg")
    with pytest.raises(UserError):
        link_evidence("javascript:alert(1)")


def test_evidence_dir_that_is_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    # Works even as root: nothing can be created under a regular file.
    blocker = tmp_path / "evidence"
    blocker.write_text("not a directory")
    with pytest.raises(UserError) as info:
        store_file(blocker, PDF, "a.pdf")
    assert info.value.message_id == MSG_STORAGE


FILE_SIZE_LIMIT_CHILD = """
import resource, signal, sys
from pathlib import Path
from bot.core.errors import UserError
from bot.plans.evidence import store_file
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    store_file(Path(sys.argv[1]), b"%PDF-1.7\\n" + b"0" * 20000, "a.pdf")
except UserError as error:
    print(error.message_id)
"""


def test_a_real_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    """The kernel refuses the write half-way (a file size limit: like a full disk, even as root)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMIT_CHILD, str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == MSG_STORAGE
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
