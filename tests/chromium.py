"""Headless Chromium for the report tests: load a page offline and read what it drew.

Chromium (Debian's ``chromium`` package) starts with networking off: no proxy resolution, DNS
mapped to nothing, background and component traffic disabled, a new empty profile, and the
DevTools protocol on a loopback port. The page loads with the network emulated offline, and
every request, console message and exception is recorded, so a test can say "no request left
the page" and "no console error" from the browser's own account.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--window-size=1280,900",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def executable() -> str | None:
    """Return the path of the chromium binary, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageRun:
    """What a page load gave: requests, console errors, the drawn charts, the tables, a PNG."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""


class _Session:
    def __init__(self, url: str) -> None:
        import websocket  # websocket-client, a dev dependency

        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result") or {})
            if "method" in msg:
                self.events.append(msg)

    def drain(self, seconds: float) -> None:
        self.ws.settimeout(seconds)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except Exception:  # the timeout: nothing more arrived
            pass
        finally:
            self.ws.settimeout(60)

    def close(self) -> None:
        self.ws.close()


# What the page drew: per chart, whether plotly finished and how many marks it holds; per
# table, its key and cells (text and the raw data-value); KPI tiles with their values.
_COLLECT = r"""
(() => {
  const charts = [...document.querySelectorAll('.chart')].map(c => ({
    id: c.id,
    drawn: c.getAttribute('data-drawn') === 'true',
    svg: c.querySelectorAll('svg.main-svg').length,
    // Marks: drawn bars, lines, points, heatmap images and Sankey links (not legend swatches).
    marks: [...c.querySelectorAll(
      '.cartesianlayer .trace path, .cartesianlayer image, .sankey .sankey-link')]
      .filter(e => e.tagName === 'image' || (e.getAttribute('d') || '').length > 6).length,
  }));
  const tables = [...document.querySelectorAll('table.numbers-table')].map(t => ({
    key: t.getAttribute('data-key') || '',
    head: [...t.querySelectorAll('thead th')].map(h => h.textContent.trim()),
    rows: [...t.querySelectorAll('tbody tr')].map(r => [...r.children].map(c => ({
      text: c.textContent.trim(), value: c.getAttribute('data-value')}))),
  }));
  const kpis = [...document.querySelectorAll('.kpi')].map(k => ({
    key: k.getAttribute('data-key') || '', value: k.getAttribute('data-value'),
    text: k.querySelector('.kpi-value').textContent.trim()}));
  const data = document.getElementById('cjkit-data');
  return JSON.stringify({charts, tables, kpis, ready: document.body.getAttribute('data-charts-ready'),
    title: document.title, lang: document.documentElement.lang,
    text: document.body.innerText.length, embedded: data ? JSON.parse(data.textContent) : null});
})()
"""


def load(page: Path, screenshot: bool = True, timeout: float = 60.0) -> PageRun:
    """Open ``page`` offline in headless Chromium and return what happened."""
    binary = executable()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="cjkit-chromium-")
    proc = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": profile},
    )
    try:
        port = _port(proc, timeout)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.load(resp)
        target = next(t for t in targets if t.get("type") == "page")
        session = _Session(target["webSocketDebuggerUrl"])
        try:
            return _run(session, page, screenshot, timeout)
        finally:
            session.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def _port(proc: subprocess.Popen[str], timeout: float) -> int:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if match:
            return int(match.group(1))
    raise RuntimeError("chromium did not start its DevTools endpoint")


def _run(session: _Session, page: Path, screenshot: bool, timeout: float) -> PageRun:
    for domain in ("Page", "Runtime", "Log", "Network"):
        session.call(f"{domain}.enable")
    session.call(
        "Network.emulateNetworkConditions",
        offline=True,
        latency=0,
        downloadThroughput=-1,
        uploadThroughput=-1,
    )
    url = page.resolve().as_uri()
    session.call("Page.navigate", url=url)
    deadline = time.monotonic() + timeout
    ready = None
    while time.monotonic() < deadline:
        value = session.call(
            "Runtime.evaluate",
            expression="document.readyState + '|' + "
            "(document.body && document.body.getAttribute('data-charts-ready'))",
            returnByValue=True,
        )["result"].get("value", "")
        state, _, ready = str(value).partition("|")
        if state == "complete" and ready not in ("", "null"):
            break
        time.sleep(0.2)
    session.drain(0.5)  # late console messages and requests
    run = PageRun()
    raw = session.call("Runtime.evaluate", expression=_COLLECT, returnByValue=True)
    run.result = json.loads(raw["result"]["value"])
    if screenshot:
        metrics = session.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        height = int(min(size["height"], 16000))
        session.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        session.drain(0.8)  # the charts redraw at the new viewport
        shot = session.call(
            "Page.captureScreenshot",
            format="png",
            clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1},
            captureBeyondViewport=True,
        )
        run.screenshot = base64.b64decode(shot["data"])
    for event in session.events:
        method, params = event.get("method"), event.get("params") or {}
        if method == "Network.requestWillBeSent":
            req = params.get("request", {}).get("url", "")
            if req != url and not req.startswith(("data:", "blob:", "about:")):
                run.requests.append(req)
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            run.errors.append(
                " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            run.errors.append(
                str(details.get("exception", {}).get("description") or details.get("text"))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            run.errors.append(str(params["entry"].get("text")))
    return run
