"""cdp - drive Debian's headless Chromium over the DevTools protocol on a pipe.

`chromium --remote-debugging-pipe` reads protocol commands from fd 3 and
writes replies and events to fd 4, as NUL-terminated JSON: no WebSocket
library, no Node.js, nothing to pin but Chromium itself (deps.sh installs
it).  One Browser per test; Page.* helpers wait on observable conditions with
bounded timeouts, and every page records console errors, uncaught
exceptions and failed requests (status >= 400 or a network failure) in
`problems`, which the tests assert empty.
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import threading
import time


class CdpError(Exception):
    pass


class Browser:
    def __init__(self, profile_dir, binary=None):
        self.binary = binary or shutil.which("chromium") or "/usr/bin/chromium"
        os.makedirs(profile_dir, exist_ok=True)
        self.profile_dir = profile_dir
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        def fds():
            # move both out of the way first: either may already be 3 or 4
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)
        argv = [self.binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-dev-shm-usage", "--mute-audio",
                "--user-data-dir=" + profile_dir, "about:blank"]
        self.log = open(os.path.join(profile_dir, "chromium.log"), "wb")
        # close_fds=False: only 3 and 4 are inheritable (os.pipe's fds are
        # close-on-exec, PEP 446), so nothing else leaks into chromium.
        self.proc = subprocess.Popen(argv, preexec_fn=fds, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self._id = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._replies = {}
        self._listeners = {}     # sessionId -> fn(event)
        self._closed = False
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    fn = self._listeners.get(msg.get("sessionId"))
                    if fn:
                        fn(msg)

    def send(self, method, params=None, session=None, timeout=60):
        with self._lock:
            self._id += 1
            mid = self._id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._w, data)
            data = data[n:]
        end = time.monotonic() + timeout
        with self._cond:
            while mid not in self._replies:
                if self._closed:
                    raise CdpError("chromium exited (see chromium.log)")
                left = end - time.monotonic()
                if left <= 0:
                    raise CdpError("%s: no reply in %ss" % (method, timeout))
                self._cond.wait(left)
            r = self._replies.pop(mid)
        if "error" in r:
            raise CdpError("%s: %s" % (method, r["error"].get("message")))
        return r.get("result", {})

    def new_page(self, width=1280, height=800, mobile=False):
        # each page in its own browser context: its own cookies and storage
        ctx = self.send("Target.createBrowserContext")["browserContextId"]
        tid = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": ctx})["targetId"]
        sid = self.send("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        return Page(self, sid, width, height, mobile)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except CdpError:
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        self.log.close()


class Page:
    def __init__(self, browser, session, width, height, mobile):
        self.b = browser
        self.sid = session
        self.problems = []
        self.requests = {}
        browser._listeners[session] = self._event
        for dom in ("Page", "Runtime", "Network", "Log", "DOM"):
            self.call(dom + ".enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                  "deviceScaleFactor": 1, "mobile": mobile})
        if mobile:
            self.call("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        # downloads (export .torrent) are refused quietly, not as failures
        self.call("Page.setDownloadBehavior", {"behavior": "deny"})

    def _event(self, msg):
        m, p = msg["method"], msg.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.problems.append("console.%s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.problems.append("exception: %s %s" % (d.get("text"), d.get("exception", {}).get("description", "")))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.problems.append("log: %s %s" % (p["entry"].get("text"), p["entry"].get("url", "")))
        elif m == "Network.requestWillBeSent":
            self.requests[p["requestId"]] = p["request"]["url"]
        elif m == "Network.responseReceived" and p["response"]["status"] >= 400:
            self.problems.append("HTTP %d %s" % (p["response"]["status"], p["response"]["url"]))
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            self.problems.append("failed %s: %s" % (self.requests.get(p["requestId"]), p.get("errorText")))

    def call(self, method, params=None, timeout=60):
        return self.b.send(method, params, self.sid, timeout)

    def goto(self, url):
        self.call("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete'", 30, "page load")

    def eval(self, expr, timeout=60):
        r = self.call("Runtime.evaluate", {"expression": expr, "awaitPromise": True,
                                           "returnByValue": True, "userGesture": True}, timeout)
        if "exceptionDetails" in r:
            raise CdpError("eval %r: %s" % (expr[:80], r["exceptionDetails"].get("exception", {})
                                                 .get("description", r["exceptionDetails"].get("text"))))
        return r["result"].get("value")

    def wait(self, expr, timeout, what, interval=0.05):
        end = time.monotonic() + timeout
        while True:
            v = self.eval("(() => { try { return %s; } catch (e) { return false; } })()" % expr)
            if v:
                return v
            if time.monotonic() > end:
                # what the page showed, for the report (and a picture next to chromium.log)
                try:
                    self.screenshot(os.path.join(self.b.profile_dir, "timeout.png"))
                    seen = self.eval("document.body.innerText.slice(0, 1500)")
                except CdpError:
                    seen = "?"
                raise CdpError("timed out (%ss) waiting for %s: %s\npage text: %s\nproblems: %s"
                               % (timeout, what, expr, seen, self.problems))
            time.sleep(interval)

    def q(self, sel):
        return json.dumps(sel)

    def click(self, sel, timeout=10, modifiers=0, button="left", count=1):
        """A real mouse click at the centre of the first visible match."""
        box = self.wait("(() => { const e = [...document.querySelectorAll(%s)].find(x => x.offsetParent !== null "
                        "|| getComputedStyle(x).position === 'fixed'); if (!e) return null; e.scrollIntoView({block: 'nearest'});"
                        " const r = e.getBoundingClientRect(); const l = Math.max(r.left, 0), rt = Math.min(r.right, innerWidth),"
                        " t = Math.max(r.top, 0), b = Math.min(r.bottom, innerHeight);"
                        " return rt > l && b > t ? [(l + rt) / 2, (t + b) / 2] : null; })()"
                        % self.q(sel), timeout, "clickable " + sel)
        x, y = box
        self.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": button,
                                                   "clickCount": count, "modifiers": modifiers})

    def click_text(self, sel, text, timeout=10, **kw):
        """Click the first visible element matching sel whose text contains text."""
        self.wait("(() => { document.querySelectorAll('[data-cdp]').forEach(x => x.removeAttribute('data-cdp'));"
                  " const e = [...document.querySelectorAll(%s)].find(x => x.offsetParent !== null"
                  " && x.textContent.includes(%s)); if (e) e.setAttribute('data-cdp', '1'); return !!e; })()"
                  % (self.q(sel), json.dumps(text)), timeout, "%s with text %r" % (sel, text))
        self.click("[data-cdp]", timeout, **kw)

    def key(self, key, code=None, modifiers=0):
        vk = {"ArrowDown": 40, "ArrowUp": 38, "Enter": 13, "End": 35, "Home": 36, "Escape": 27,
              "PageDown": 34, "Delete": 46, "a": 65}.get(key, 0)
        for kind in ("rawKeyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": code or key,
                                                 "windowsVirtualKeyCode": vk, "modifiers": modifiers})

    def fill(self, sel, value):
        self.wait("!!document.querySelector(%s)" % self.q(sel), 10, sel)
        self.eval("(() => { const e = document.querySelector(%s); e.focus(); e.value = %s;"
                  " e.dispatchEvent(new Event('input', {bubbles: true}));"
                  " e.dispatchEvent(new Event('change', {bubbles: true})); })()" % (self.q(sel), json.dumps(value)))

    def check(self, sel, on=True):
        self.eval("(() => { const e = document.querySelector(%s); if (e.checked !== %s) e.click(); })()"
                  % (self.q(sel), "true" if on else "false"))

    def set_files(self, sel, paths):
        doc = self.call("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = self.call("DOM.querySelector", {"nodeId": doc, "selector": sel})["nodeId"]
        if not node:
            raise CdpError("no " + sel)
        self.call("DOM.setFileInputFiles", {"nodeId": node, "files": paths})

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path
