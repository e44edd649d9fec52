"""QR codes drawn as SVG for printed pages (no image library, no font: fast and small)."""

from __future__ import annotations

import base64


def qr_data_uri(link: str) -> str:
    """A ``data:`` URI of the QR code of a link, to put in an ``<img>``."""
    import qrcode  # a few ms to import; only pages that print codes need it
    from qrcode.image.svg import SvgPathImage

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(link)
    code.make(fit=True)
    svg = code.make_image(image_factory=SvgPathImage).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
