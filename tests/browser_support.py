"""What the real-browser tests share: Chromium, a local static server, a watched page.

Every page is served from 127.0.0.1 and every request to anything else is
aborted and recorded, so a test also proves that the file is self-contained.
Importing this module skips the importing test module when Playwright or
Chromium is missing, with a message saying how to install it.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="Python package 'playwright' not installed: pip install playwright",
)
if not CHROMIUM.exists():
    pytest.skip(
        f"Chromium not found at {CHROMIUM}: apt-get install chromium",
        allow_module_level=True,
    )

XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_DESCRIPTION = "Plot <script>window.__pwned=1</script> with <b>bold</b> text"

# Waits until BokehJS has built and painted the document.
READY_JS = """() => window.Bokeh !== undefined && Bokeh.documents.length > 0
  && Bokeh.index.roots.length > 0 && Bokeh.index.roots.every((v) => v.is_idle)"""

# Page coordinates of data point i, from the plot view's scales and the canvas box.
POINT_POSITION_JS = """([i, sourceName, plotName]) => {
  const doc = Bokeh.documents[0];
  const source = doc.get_model_by_name(sourceName);
  const view = Bokeh.index.find_one(doc.get_model_by_name(plotName));
  const box = view.canvas_view.el.getBoundingClientRect();
  return {
    x: box.left + view.frame.x_scale.compute(source.data.x[i]),
    y: box.top + view.frame.y_scale.compute(source.data.y[i]),
  };
}"""


@dataclass
class PageWatch:
    """Everything the page did that a safe, offline page must not do."""

    base_url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def assert_clean(self, page: Any) -> None:
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.dialogs == [], "markup in the data triggered a dialog"
        assert self.foreign_requests == [], "page tried to reach the network"
        assert page.evaluate("() => window.__pwned") is None
        # Playwright's CSS engine pierces Bokeh's open shadow roots.
        assert page.locator("img").count() == 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        if self.path == "/favicon.ico":  # avoid a 404 console error
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve the files under ``root`` on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def chromium() -> Iterator[Any]:
    """One headless Chromium (two Playwright instances cannot coexist in a process)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def watched_page(
    browser: Any, base_url: str, width: int = 1200, height: int = 900
) -> Iterator[tuple[Any, PageWatch]]:
    """A new page whose errors, dialogs and requests beyond ``base_url`` are recorded.

    The caller navigates; requests outside ``base_url`` are aborted.
    """
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watch = PageWatch(base_url)
    page.on(
        "console",
        lambda msg: (
            watch.console_errors.append(msg.text) if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def route(route: Any) -> None:
        if route.request.url.startswith(base_url + "/"):
            route.continue_()
        else:
            watch.foreign_requests.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    try:
        yield page, watch
    finally:
        context.close()
