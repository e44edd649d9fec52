"""Photos of a report: checked like evidence, stripped of where they were taken, stored safely.

A phone's photo carries EXIF: the GPS position it was taken at (often the resident's home),
the time, the phone's make and serial number. Decree 13/2023 asks to keep only what the
report needs, so unless the resident chose to share their location, a photo is stored
without its metadata: for JPEG every APP segment that can hold it (EXIF, XMP, IPTC, the
extra pictures of MPF) is dropped and only the orientation is written back; PNG loses its
eXIf and text chunks; WebP its EXIF and XMP chunks. The picture itself is copied byte for
byte: nothing is re-encoded, so nothing is lost and a large photo costs no memory to decode.
HEIC cannot be cleaned that way and is refused (Telegram and Zalo send photos as JPEG).

Type and size are checked and files written atomically by checksum with
``bot.plans.evidence`` (the same rules as a unit's evidence); links stay links.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.core.errors import UserError
from bot.i18n import N_
from bot.plans.evidence import check_file, link_evidence, store_file

MSG_ONLY_PHOTOS = N_("I can only add photos (JPEG, PNG or WebP) to a report.")
MSG_HEIC = N_(
    "I cannot take HEIC photos. Please send the picture as a normal photo "
    "(in the chat app, choose the photo, not a file)."
)
MSG_BROKEN = N_("I could not read this photo. Please take it again or send another one.")

CLEANABLE = ("jpeg", "png", "webp")
_ORIENTATION = 0x0112


def photo_dir(data_dir: Path) -> Path:
    """Where report photos are stored (beside the evidence, under the data directory)."""
    return data_dir / "feedback"


class BrokenImage(ValueError):
    """The file says it is an image but its structure cannot be followed."""


@dataclass(frozen=True)
class StoredPhoto:
    """A photo kept for a report (stored file or link), ready to be recorded."""

    kind: str  # photo | link
    mime_type: str = ""
    size: int = 0
    sha256: str = ""
    storage_path: str = ""  # relative to the feedback photo directory
    url: str = ""
    metadata_removed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """As kept in a conversation's state until the report is sent."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredPhoto:
        """Rebuild what ``to_dict`` kept."""
        return cls(
            kind=str(data.get("kind", "photo")),
            mime_type=str(data.get("mime_type", "")),
            size=int(data.get("size", 0)),
            sha256=str(data.get("sha256", "")),
            storage_path=str(data.get("storage_path", "")),
            url=str(data.get("url", "")),
            metadata_removed=bool(data.get("metadata_removed", False)),
        )


def store_photo(
    directory: Path,
    data: bytes,
    *,
    file_name: str = "",
    mime_type: str = "",
    declared_size: int | None = None,
    keep_location: bool = False,
) -> StoredPhoto:
    """Check a photo, strip its metadata unless ``keep_location``, and store it atomically."""
    kind = check_file(data, file_name, mime_type)  # size, real type, honest name
    if kind == "heic":
        raise UserError(MSG_HEIC)
    if kind not in CLEANABLE:
        raise UserError(MSG_ONLY_PHOTOS)
    cleaned = data
    if not keep_location:
        try:
            cleaned = strip_metadata(data, kind)
        except BrokenImage:
            raise UserError(MSG_BROKEN) from None
    stored = store_file(directory, cleaned, file_name, mime_type, declared_size)
    return StoredPhoto(
        kind="photo",
        mime_type=stored.mime_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_path=stored.storage_path,
        metadata_removed=not keep_location,
    )


def link_photo(url: str) -> StoredPhoto:
    """A photo the chat app only gives as a link (Zalo): kept as the link."""
    return StoredPhoto(kind="link", url=link_evidence(url).url)


def strip_metadata(data: bytes, kind: str) -> bytes:
    """The image without EXIF, XMP, IPTC and text metadata (JPEG keeps its orientation)."""
    if kind == "jpeg":
        return _strip_jpeg(data)
    if kind == "png":
        return _strip_png(data)
    if kind == "webp":
        return _strip_webp(data)
    raise ValueError(f"cannot strip {kind}")


# ------------------------------------------------------------------ JPEG

_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_APP0, _APP1, _APP2, _APP14 = 0xE0, 0xE1, 0xE2, 0xEE
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


def _strip_jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise BrokenImage("no SOI")
    out = bytearray(b"\xff\xd8")
    for marker, segment in _jpeg_segments(data):
        if marker == _APP1:
            payload = segment[4:]
            if payload.startswith(b"Exif\x00\x00"):
                orientation = _orientation(payload)
                if orientation is not None:
                    out += _exif_segment(orientation)
            continue  # XMP and any other APP1
        if marker == _APP2 and not segment[4:].startswith(b"ICC_PROFILE\x00"):
            continue  # MPF (the extra pictures are cut off below) and FlashPix
        if 0xE0 <= marker <= 0xEF and marker not in (_APP0, _APP1, _APP2, _APP14):
            continue  # APP3…APP13 (IPTC in APP13), APP15: metadata, not picture
        if marker == 0xFE:
            continue  # COM: free text
        out += segment
    return bytes(out)


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Every segment after SOI up to and including EOI; entropy data rides with its SOS."""
    position = 2
    size = len(data)
    while position < size:
        if data[position] != 0xFF:
            raise BrokenImage(f"expected a marker at {position}")
        marker = data[position + 1] if position + 1 < size else None
        if marker is None:
            raise BrokenImage("truncated marker")
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == _EOI:
            yield marker, data[position : position + 2]
            return  # anything after the picture (MPF images, phone trailers) is dropped
        if marker in _STANDALONE:
            yield marker, data[position : position + 2]
            position += 2
            continue
        if position + 4 > size:
            raise BrokenImage("truncated segment")
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if length < 2 or end > size:
            raise BrokenImage("segment runs past the end")
        if marker != _SOS:
            yield marker, data[position:end]
            position = end
            continue
        scan_end = _scan_end(data, end)
        yield marker, data[position:scan_end]
        position = scan_end
    raise BrokenImage("no EOI")


def _scan_end(data: bytes, start: int) -> int:
    """Where the entropy-coded data after an SOS header ends (the next real marker)."""
    position = start
    size = len(data)
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= size:
            raise BrokenImage("scan runs past the end")
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position += 1 if following == 0xFF else 2  # stuffed byte, restart, fill
            continue
        return position


def _orientation(payload: bytes) -> int | None:
    """The orientation tag of an EXIF block, if it has a usable one."""
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(payload)
    except Exception:  # noqa: BLE001 - a damaged EXIF block is simply not kept
        return None
    value = exif.get(_ORIENTATION)
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _exif_segment(orientation: int) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[_ORIENTATION] = orientation
    payload = exif.tobytes()
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


# ------------------------------------------------------------------ PNG

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_METADATA = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _strip_png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise BrokenImage("no PNG signature")
    out = bytearray(_PNG_SIGNATURE)
    position = len(_PNG_SIGNATURE)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise BrokenImage("chunk runs past the end")
        if kind not in _PNG_METADATA:
            out += data[position:end]
        position = end
        if kind == b"IEND":
            return bytes(out)
    raise BrokenImage("no IEND")


# ------------------------------------------------------------------ WebP

_WEBP_METADATA = {b"EXIF", b"XMP "}
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _strip_webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise BrokenImage("not a RIFF WebP")
    (riff_size,) = struct.unpack("<I", data[4:8])
    end_of_riff = min(len(data), 8 + riff_size)
    body = bytearray()
    position = 12
    while position + 8 <= end_of_riff:
        kind = data[position : position + 4]
        (length,) = struct.unpack("<I", data[position + 4 : position + 8])
        end = position + 8 + length + (length & 1)
        if position + 8 + length > end_of_riff:
            raise BrokenImage("chunk runs past the end")
        chunk = bytearray(data[position : min(end, end_of_riff)])
        if kind == b"VP8X" and length >= 1:
            chunk[8] &= ~(_VP8X_EXIF | _VP8X_XMP) & 0xFF
        if kind not in _WEBP_METADATA:
            body += chunk
        position = end
    if not body:
        raise BrokenImage("no WebP chunks")
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + bytes(body)
