"""Photos are checked like evidence and lose where they were taken, losslessly."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import UserError
from bot.feedback.photos import (
    MSG_BROKEN,
    MSG_HEIC,
    MSG_ONLY_PHOTOS,
    StoredPhoto,
    link_photo,
    store_photo,
    strip_metadata,
)
from bot.plans.evidence import MSG_LYING, MSG_TOO_LARGE
from tests.feedback.photos import (
    GPS_IFD,
    MAKE,
    ORIENTATION,
    exif_of,
    jpeg_with_gps,
    pixels,
    png_with_gps,
    webp_with_gps,
)


@pytest.mark.parametrize("progressive", [False, True])
def test_a_jpeg_loses_its_location_and_camera_but_keeps_picture_and_orientation(
    progressive: bool,
) -> None:
    original = jpeg_with_gps(progressive=progressive, trailer=b"\xff\xd8MPF second picture")
    assert GPS_IFD in exif_of(original)
    cleaned = strip_metadata(original, "jpeg")
    assert exif_of(cleaned) == {ORIENTATION: 6}
    assert pixels(cleaned) == pixels(original)  # nothing re-encoded
    assert b"ns.adobe.com/xap" not in cleaned
    assert b"Nguyen Van An" not in cleaned
    assert b"MPF second picture" not in cleaned
    assert cleaned.endswith(b"\xff\xd9")


def test_png_and_webp_lose_their_metadata_chunks() -> None:
    png = png_with_gps()
    cleaned = strip_metadata(png, "png")
    assert GPS_IFD in exif_of(png) and exif_of(cleaned) == {}
    assert b"Nguyen Van An" in png and b"Nguyen Van An" not in cleaned
    assert pixels(cleaned) == pixels(png)
    webp = webp_with_gps()
    cleaned = strip_metadata(webp, "webp")
    assert MAKE in exif_of(webp) and exif_of(cleaned) == {}
    assert pixels(cleaned) == pixels(webp)


def test_a_photo_is_stored_cleaned_unless_the_resident_shares_the_location(tmp_path: Path) -> None:
    original = jpeg_with_gps()
    stored = store_photo(tmp_path, original, file_name="anh.jpg", mime_type="image/jpeg")
    kept = (tmp_path / stored.storage_path).read_bytes()
    assert stored.metadata_removed and stored.kind == "photo" and stored.mime_type == "image/jpeg"
    assert GPS_IFD not in exif_of(kept) and stored.size == len(kept)
    shared = store_photo(tmp_path, original, keep_location=True)
    assert not shared.metadata_removed
    assert (tmp_path / shared.storage_path).read_bytes() == original
    assert not list(tmp_path.rglob(".upload-*"))  # atomic writes leave no temporary file
    assert StoredPhoto.from_dict(stored.to_dict()) == stored


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.7\n" + b"0" * 100, "to-trinh.pdf", MSG_ONLY_PHOTOS),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100, "IMG_0001.HEIC", MSG_HEIC),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100, "anh.jpg", MSG_BROKEN),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "anh.png", MSG_BROKEN),
        (jpeg_with_gps(), "anh.png", MSG_LYING),
    ],
)
def test_what_is_not_a_readable_photo_is_refused_in_words(
    tmp_path: Path, data: bytes, name: str, message: str
) -> None:
    with pytest.raises(UserError) as refused:
        store_photo(tmp_path, data, file_name=name)
    assert refused.value.message_id == message
    assert list(tmp_path.iterdir()) == []


def test_size_is_limited_like_evidence_and_links_stay_links(tmp_path: Path) -> None:
    with pytest.raises(UserError) as refused:
        store_photo(tmp_path, jpeg_with_gps(), declared_size=30 * 1024 * 1024)
    assert refused.value.message_id == MSG_TOO_LARGE
    assert link_photo("https://zalo.example/photo/1.jpg") == StoredPhoto(
        kind="link", url="https://zalo.example/photo/1.jpg"
    )
