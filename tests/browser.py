"""Headless Chromium driven over the DevTools protocol, for tests that look at a page.

`chromium --headless --remote-debugging-port=0` prints the address of its DevTools websocket;
one websocket connection then opens a tab, sets its viewport (a phone's 380 px, a laptop's
1280 px), loads the page, measures it with JavaScript run by DevTools (not by the page, whose
Content-Security-Policy forbids scripts) and takes full-page screenshots. No download: it is
Debian's chromium package (`apt-get install chromium`); the flags are the ones this machine
needs (no sandbox as root, no background networking).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_path() -> str | None:
    return shutil.which("chromium")


def chromium_major() -> str | None:
    """The major version of the installed Chromium ("156"), which decides how text renders."""
    path = chromium_path()
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"(\d+)\.\d+\.\d+", out)
    return found.group(1) if found else None


class Chromium:
    """One headless Chromium process and a DevTools connection to it."""

    def __init__(self, profile: Path, *flags: str, timeout_s: float = 60.0) -> None:
        self.profile, self.flags, self.timeout_s = profile, flags, timeout_s
        self._ids = itertools.count(1)

    def __enter__(self) -> Chromium:
        self.proc = subprocess.Popen(
            [chromium_path() or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-quic", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0", *self.flags,
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + self.timeout_s
        url = None
        while url is None and time.monotonic() < deadline:
            line = self.proc.stderr.readline()  # type: ignore[union-attr]
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            found = _LISTENING.search(line)
            url = found.group(1) if found else None
        if url is None:
            self.proc.kill()
            raise TimeoutError("chromium did not open its DevTools port")
        self.ws = connect(url, max_size=None, open_timeout=self.timeout_s)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict:
        """Send one DevTools command and wait for its answer (events in between are dropped)."""
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            answer = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
        raise TimeoutError(method)

    def open(self, url: str, width: int, height: int = 900) -> Tab:
        """A new tab of `width` x `height` CSS pixels showing `url`, loaded."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        tab = Tab(self, session, width)
        tab.resize(height)
        self.call("Page.navigate", session, url=url)
        deadline = time.monotonic() + self.timeout_s
        while tab.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load")
            time.sleep(0.05)
        return tab


class Tab:
    """One tab: run JavaScript in it, resize it, screenshot it."""

    def __init__(self, browser: Chromium, session: str, width: int) -> None:
        self.browser, self.session, self.width = browser, session, width

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (a promise is awaited)."""
        result = self.browser.call("Runtime.evaluate", self.session, expression=expression,
                                   returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def resize(self, height: int) -> None:
        self.browser.call("Emulation.setDeviceMetricsOverride", self.session, width=self.width,
                          height=height, deviceScaleFactor=1, mobile=False)

    def screenshot(self, path: Path) -> tuple[int, int]:
        """The whole page (the viewport stretched to its height) as PNG; (width, height)."""
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)"))
        self.resize(height)
        shot = self.browser.call("Page.captureScreenshot", self.session, format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return self.width, height
