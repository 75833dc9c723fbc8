"""The PDF report: WeasyPrint prints the very HTML of `render_report_html` (A4, its print stylesheet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditpack.atomic import atomic_path


def _data_urls_only() -> Any:
    """The report is self-contained: only inline data: URLs are read, nothing is fetched from anywhere."""
    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint 66 and later
    except ImportError:  # older WeasyPrint: a plain function
        from weasyprint.urls import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            if not url.startswith("data:"):
                raise ValueError(f"the report refers to {url!r}; only inline data: URLs are allowed")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"})


def lay_out(html: str) -> Any:
    """The report laid out on its A4 pages (a WeasyPrint Document): what is printed, and what a test can measure."""
    from weasyprint import HTML  # imported here: loading WeasyPrint costs a second that HTML-only runs need not pay

    return HTML(string=html, url_fetcher=_data_urls_only()).render()


def write_layout(layout: Any, path: Path) -> Path:
    """Write laid-out pages to a PDF at `path`, atomically: a reader sees the old file or the whole new one."""
    with atomic_path(path) as tmp:
        layout.write_pdf(tmp)
    return Path(path)


def write_pdf(html: str, path: Path) -> Path:
    """Render `html` to a PDF at `path`, atomically."""
    return write_layout(lay_out(html), path)
