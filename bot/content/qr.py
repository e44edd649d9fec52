"""Printable QR codes for guide deep links, with the guide title under the code."""

from __future__ import annotations

import io
import textwrap

import qrcode
from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont


def _font(size: int) -> ImageFont.FreeTypeFont:
    # DejaVu Sans ships with matplotlib and covers Vietnamese diacritics.
    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)


def guide_qr_png(link: str, title: str, box_size: int = 12) -> bytes:
    """A PNG: the QR code of ``link`` with ``title`` wrapped underneath."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4
    )
    code.add_data(link)
    code.make(fit=True)
    qr_image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    font = _font(max(18, box_size * 2))
    lines = textwrap.wrap(title, width=28) or [""]
    line_height = font.size + 8
    canvas = Image.new(
        "RGB", (qr_image.width, qr_image.height + line_height * len(lines) + 24), "white"
    )
    canvas.paste(qr_image, (0, 0))
    draw = ImageDraw.Draw(canvas)
    y = qr_image.height
    for line in lines:
        width = draw.textlength(line, font=font)
        draw.text(((canvas.width - width) / 2, y), line, fill="black", font=font)
        y += line_height
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()
