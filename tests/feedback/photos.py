"""Real photos for the feedback tests, with the metadata a phone writes (made with Pillow)."""

from __future__ import annotations

import io
import struct

from PIL import Image, PngImagePlugin

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
SERIAL = 0xA431  # BodySerialNumber, in the Exif IFD
XMP = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>21,35.6N</exif:GPSLatitude></x:xmpmeta>"


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (21.0, 35.0, 39.0), 3: "E", 4: (105.0, 50.0, 53.0)}
    return exif


def picture(size: tuple[int, int] = (32, 24)) -> Image.Image:
    image = Image.new("RGB", size)
    for x in range(size[0]):
        for y in range(size[1]):
            image.putpixel((x, y), (x * 7 % 256, y * 11 % 256, (x + y) * 5 % 256))
    return image


def jpeg_with_gps(*, progressive: bool = False, trailer: bytes = b"") -> bytes:
    """A JPEG with EXIF (GPS, make, orientation), an XMP block, a comment and a trailer."""
    buffer = io.BytesIO()
    picture().save(buffer, "JPEG", exif=_exif().tobytes(), progressive=progressive, quality=90)
    data = buffer.getvalue()
    xmp = b"\xff\xe1" + struct.pack(">H", len(XMP) + 2) + XMP
    comment = b"\xff\xfe" + struct.pack(">H", len(b"Nguyen Van An") + 2) + b"Nguyen Van An"
    return data[:2] + xmp + comment + data[2:] + trailer


def png_with_gps() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Nguyen Van An")
    buffer = io.BytesIO()
    picture().save(buffer, "PNG", exif=_exif().tobytes(), pnginfo=info)
    return buffer.getvalue()


def webp_with_gps() -> bytes:
    buffer = io.BytesIO()
    picture().save(buffer, "WEBP", exif=_exif().tobytes(), lossless=True)
    return buffer.getvalue()


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def exif_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif())
