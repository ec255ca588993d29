"""Open an HTML report in headless Chromium and report what a reader would see.

Used by the report tests and by ``make report-check``
(``python -m tests.browser results/<scenario>/report.html``).

A copy of the page gets a small probe script: it records script errors and
resources that fail to load, and once the page has loaded it writes a JSON
marker into the DOM (how many images there are, how many decoded with a
non-zero width, the errors, the window's size and where the verdict box
ends), which ``--dump-dom`` reveals. The window is 1,400 x 900 pixels, a
laptop's first screen. Chromium's own
console log (``--enable-logging=stderr``) is read as well, so a
``console.error`` or an uncaught exception counts even if the probe missed it.
Every host name resolves to nothing (``--host-resolver-rules``), so a page
that needs the network fails instead of quietly fetching.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=10000",
    "--window-size=1400,900",
    "--dump-dom",
)

PROBE_HEAD = """<script>
window.__salesimErrors = [];
window.addEventListener('error', function (e) {
  var target = e.target && (e.target.src || e.target.href);
  window.__salesimErrors.push(e.message || ('failed to load: ' + String(target).slice(0, 80)));
}, true);
</script>"""

PROBE_BODY = """<script>
window.addEventListener('load', function () {
  var images = [].slice.call(document.images);
  var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  var marker = document.createElement('pre');
  marker.id = 'salesim-render-check';
  marker.textContent = JSON.stringify({
    images: images.length, loaded: loaded.length, errors: window.__salesimErrors,
    title: document.title, text_chars: document.body.innerText.length,
    viewport: [window.innerWidth, window.innerHeight],
    height: document.documentElement.scrollHeight,
    figures_top: (function () {
      var heading = [].slice.call(document.querySelectorAll('h2')).filter(function (h) {
        return h.textContent === 'Figures';
      })[0];
      return heading ? heading.getBoundingClientRect().top + window.scrollY : null;
    })(),
    verdict_bottom: (function () {
      var box = document.getElementById('verdict');
      return box ? box.getBoundingClientRect().bottom + window.scrollY : null;
    })()
  });
  document.body.appendChild(marker);
});
</script>"""


@dataclass
class RenderCheck:
    """What the browser saw."""

    rendered: bool
    images: int = 0
    loaded: int = 0
    title: str = ""
    text_chars: int = 0
    errors: list[str] = field(default_factory=list)
    viewport: tuple[int, int] = (0, 0)
    verdict_bottom: float | None = None
    height: float = 0.0
    """The page's height in CSS pixels, folded sections closed."""
    figures_top: float | None = None
    """Where the "Figures" heading starts, in CSS pixels from the page's top."""
    """Where the element with id ``verdict`` ends, in CSS pixels from the page's top."""

    @property
    def problems(self) -> list[str]:
        """Everything wrong, one line each; empty for a good page."""
        out = [] if self.rendered else ["the page did not render (no marker in the DOM)"]
        if self.loaded < self.images:
            out.append(f"only {self.loaded} of {self.images} images loaded")
        return out + self.errors


def find_chromium() -> str | None:
    """The Chromium executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def check_html(path: Path, chromium: str | None = None, timeout_s: float = 90) -> RenderCheck:
    """Render ``path`` in headless Chromium and collect what went wrong.

    Args:
        path: the HTML file.
        chromium: the browser executable; found on PATH by default.
        timeout_s: give up after this long.

    Returns:
        The check; ``problems`` lists every failure.

    Raises:
        FileNotFoundError: when no Chromium is installed.
    """
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("chromium is not installed (apt-get install chromium)")
    page = Path(path).read_text(encoding="utf-8")
    probed = re.sub(r"<head[^>]*>", lambda m: m.group(0) + PROBE_HEAD, page, count=1)
    probed = probed.replace("</body>", PROBE_BODY + "</body>", 1)
    with tempfile.TemporaryDirectory(prefix="salesim-browser-") as tmp:
        copy = Path(tmp) / "page.html"
        copy.write_text(probed, encoding="utf-8")
        done = subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={tmp}/profile", copy.as_uri()],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            env={**os.environ, "HOME": tmp},
        )
    console = [
        "console: " + line.split("CONSOLE", 1)[1].split("]", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if ":CONSOLE" in line
    ]
    found = re.search(r'<pre id="salesim-render-check">(.*?)</pre>', done.stdout, re.S)
    if not found:
        tail = done.stderr.strip().splitlines()[-3:]
        return RenderCheck(rendered=False, errors=console + [f"chromium: {t}" for t in tail])
    data = json.loads(html.unescape(found.group(1)))
    errors = list(dict.fromkeys([*data["errors"], *console]))
    return RenderCheck(
        rendered=True,
        images=data["images"],
        loaded=data["loaded"],
        title=data["title"],
        text_chars=data["text_chars"],
        errors=errors,
        viewport=tuple(data["viewport"]),
        verdict_bottom=data["verdict_bottom"],
        height=data["height"],
        figures_top=data["figures_top"],
    )


def main(argv: list[str]) -> int:
    """Check each HTML file named; exit 1 if any has a problem, 2 without Chromium."""
    if find_chromium() is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    status = 0
    for name in argv:
        result = check_html(Path(name))
        if result.problems:
            status = 1
            for problem in result.problems:
                print(f"{name}: {problem}", file=sys.stderr)
        else:
            print(f"{name}: ok ({result.images} images loaded, no console errors)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
