"""Storing evidence (minh chứng): files checked by their real type, and links.

Files are limited to 20 MB and to images (JPEG, PNG, WebP, HEIC), PDF and Office
documents; the type is read from the file's first bytes, and a file whose name or
declared type says something else is refused. Files are stored by checksum under the
evidence directory, written to a temporary file first and renamed, so a full or
unwritable disk never leaves half a file and the caller can roll the task back.
Zalo photos arrive as URLs and people may paste a link: those are kept as links.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.core.errors import UserError
from bot.i18n import N_
from bot.text import clean, shorten

MAX_BYTES = 20 * 1024 * 1024
MAX_URL = 1000

MSG_TOO_LARGE = N_("This file is too large ({size} MB). Evidence files can be at most 20 MB.")
MSG_EMPTY = N_("This file is empty. Please send it again.")
MSG_NOT_ALLOWED = N_(
    "I can only keep photos (JPEG, PNG, WebP, HEIC), PDF files and Office documents "
    "(Word, Excel, PowerPoint, OpenDocument) as evidence."
)
MSG_LYING = N_(
    "The file “{name}” says it is {claimed} but it is really {actual}. "
    "Please send the original file."
)
MSG_NOT_FETCHED = N_(
    "I could not get this file from the chat app. Please send it again, or send a link to it."
)
MSG_STORAGE = N_(
    "I could not save the file on the server (the storage is full or not writable). "
    "Nothing was changed on the task. Please try again later or tell the standing office."
)
MSG_BAD_LINK = N_("Please send a link that starts with http:// or https://.")

# kind: (mime type, extensions a file of this kind may carry, what people call it)
TYPES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "jpeg": ("image/jpeg", ("jpg", "jpeg", "jpe", "jfif"), "JPEG"),
    "png": ("image/png", ("png",), "PNG"),
    "webp": ("image/webp", ("webp",), "WebP"),
    "heic": ("image/heic", ("heic", "heif"), "HEIC"),
    "pdf": ("application/pdf", ("pdf",), "PDF"),
    "ole": ("application/x-ole-storage", ("doc", "xls", "ppt"), "Word/Excel/PowerPoint 97-2003"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
        "Word",
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
        "Excel",
    ),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ("pptx",),
        "PowerPoint",
    ),
    "odt": ("application/vnd.oasis.opendocument.text", ("odt",), "OpenDocument Text"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", ("ods",), "OpenDocument Spreadsheet"),
}
IMAGES = {"jpeg", "png", "webp", "heic"}
# Declared MIME types mapped to the kinds they may describe.
DECLARED_MIME: dict[str, set[str]] = {
    "image/jpeg": {"jpeg"},
    "image/jpg": {"jpeg"},
    "image/pjpeg": {"jpeg"},
    "image/png": {"png"},
    "image/webp": {"webp"},
    "image/heic": {"heic"},
    "image/heif": {"heic"},
    "application/pdf": {"pdf"},
    "application/msword": {"ole"},
    "application/vnd.ms-excel": {"ole"},
    "application/vnd.ms-powerpoint": {"ole"},
}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


@dataclass(frozen=True)
class StoredEvidence:
    """What to record about a piece of evidence once it is safely stored."""

    kind: str  # photo | document | link
    file_name: str = ""
    mime_type: str = ""
    size: int = 0
    sha256: str = ""
    storage_path: str = ""  # relative to the evidence directory
    url: str = ""


def sniff(data: bytes) -> str | None:
    """The real type of a file from its first bytes (a key of TYPES), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        return "heic"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    return None


def _sniff_zip(data: bytes) -> str | None:
    """Tell Office Open XML and OpenDocument files apart from other zip archives."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                for kind in ("odt", "ods"):
                    if mimetype == TYPES[kind][0]:
                        return kind
                return None
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
        if any(name.startswith(prefix) for name in names):
            return kind
    return None


def _claimed(file_name: str, mime_type: str) -> tuple[set[str] | None, str]:
    """The kinds a file's name or declared type allow (None: it claims nothing)."""
    extension = PurePosixPath(file_name).suffix.lower().lstrip(".")
    if extension:
        kinds = {kind for kind, (_m, exts, _l) in TYPES.items() if extension in exts}
        return kinds, extension.upper()
    mime = mime_type.split(";")[0].strip().lower()
    if mime in DECLARED_MIME:
        return DECLARED_MIME[mime], mime
    for kind, (canonical, _exts, _label) in TYPES.items():
        if mime == canonical:
            return {kind}, mime
    return None, ""


def check_file(data: bytes, file_name: str = "", mime_type: str = "") -> str:
    """Check size and real type; return the kind or raise UserError in Vietnamese."""
    if len(data) > MAX_BYTES:
        raise UserError(MSG_TOO_LARGE, size=_megabytes(len(data)))
    if not data:
        raise UserError(MSG_EMPTY)
    kind = sniff(data)
    if kind is None:
        raise UserError(MSG_NOT_ALLOWED)
    claimed, label = _claimed(file_name, mime_type)
    if claimed is not None and kind not in claimed:
        if not claimed:
            raise UserError(MSG_NOT_ALLOWED)
        raise UserError(
            MSG_LYING,
            name=shorten(file_name or mime_type, 60),
            claimed=label,
            actual=TYPES[kind][2],
        )
    return kind


def store_file(
    directory: Path,
    data: bytes,
    file_name: str = "",
    mime_type: str = "",
    declared_size: int | None = None,
) -> StoredEvidence:
    """Check a file and store it atomically by checksum; raise UserError on any problem."""
    if declared_size is not None and declared_size > MAX_BYTES:
        raise UserError(MSG_TOO_LARGE, size=_megabytes(declared_size))
    kind = check_file(data, file_name, mime_type)
    digest = hashlib.sha256(data).hexdigest()
    mime, extensions, _label = TYPES[kind]
    extension = PurePosixPath(file_name).suffix.lower().lstrip(".")
    if extension not in extensions:
        extension = extensions[0]
    relative = Path(digest[:2]) / f"{digest}.{extension}"
    target = directory / relative
    try:
        if not target.exists():
            _write_atomically(target, data)
    except OSError:
        raise UserError(MSG_STORAGE) from None
    name = clean(PurePosixPath(file_name.replace("\\", "/")).name)[:300] or relative.name
    return StoredEvidence(
        kind="photo" if kind in IMAGES else "document",
        file_name=name,
        mime_type=mime,
        size=len(data),
        sha256=digest,
        storage_path=relative.as_posix(),
    )


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def find_link(text: str) -> str | None:
    """The first http(s) link in a message, if any."""
    match = _URL.search(text or "")
    return match.group(0).rstrip(".,;)") if match else None


def link_evidence(url: str, file_name: str = "") -> StoredEvidence:
    """A link kept as evidence (a Zalo photo URL or a pasted link)."""
    url = clean(url)
    if not re.match(r"^https?://\S+$", url, re.IGNORECASE) or len(url) > MAX_URL:
        raise UserError(MSG_BAD_LINK)
    return StoredEvidence(kind="link", file_name=clean(file_name)[:300], url=url)


def read_stored(directory: Path, storage_path: str) -> bytes | None:
    """The bytes of a stored evidence file, or None when it is missing."""
    path = (directory / storage_path).resolve()
    if directory.resolve() not in path.parents:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",")
