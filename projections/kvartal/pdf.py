"""The quarterly page as a PDF: WeasyPrint lays out the same HTML (with its ``@page`` A4 rule)
offline, with no browser at run time; the charts are the page's own SVG data URIs."""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of a self-contained HTML document (no base URL: nothing may be fetched)."""
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    if not isinstance(pdf, bytes):  # write_pdf returns bytes without a target
        raise TypeError("weasyprint returned no PDF bytes")
    return pdf
