"""Find a Chromium for the book's browser checks, on any machine.

Looked for in this order: the ``BOOK_CHROMIUM`` environment variable (a path), then
``chromium``, ``chromium-browser``, ``google-chrome`` and ``google-chrome-stable`` on ``PATH``,
then the macOS application folders, then the browser Playwright downloaded for itself
(``python -m playwright install chromium``). :data:`CHROMIUM_ARGS` are the flags the book
starts it with: headless, and making no connection of its own to any other host.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["CHROMIUM_ARGS", "BrowserNotFoundError", "find_chromium"]

# A root user in a sandboxed machine needs --no-sandbox; the rest keep Chromium from calling
# home (updates, sync, field trials), which a machine with only loopback refuses anyway.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_MACOS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)


class BrowserNotFoundError(FileNotFoundError):
    """No Chromium was found; the message says how to install one."""


def find_chromium() -> str | None:
    """The path of a Chromium executable, or None to let Playwright use its own browser.

    Raises
    ------
    BrowserNotFoundError
        If ``BOOK_CHROMIUM`` names a missing file, or no browser is found at all.
    """
    configured = os.environ.get("BOOK_CHROMIUM")
    if configured:
        if not Path(configured).is_file():
            raise BrowserNotFoundError(f"BOOK_CHROMIUM={configured!r} is not a file")
        return configured
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in _MACOS:
        if Path(path).is_file():
            return path
    if _playwright_has_its_own():
        return None
    raise BrowserNotFoundError(
        "no Chromium found: install one (Debian/Ubuntu: apt-get install chromium; macOS: "
        "brew install --cask chromium), or run `python -m playwright install chromium`, or "
        "set BOOK_CHROMIUM to a Chromium executable"
    )


def _playwright_has_its_own() -> bool:
    """True if Playwright has downloaded a Chromium of its own."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    with sync_playwright() as playwright:
        return Path(playwright.chromium.executable_path).is_file()
