"""What the HTML pages (job and drift reports) share: their headers, and how their
pictures are made into PNG."""

import io

from matplotlib.figure import Figure

# The pages load nothing but their own pictures.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def png(figure: Figure) -> bytes:
    """``figure`` laid out tightly, as PNG bytes."""
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
