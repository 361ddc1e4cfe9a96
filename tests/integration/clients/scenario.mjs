// Shared by the client scenarios (qbtapi_client.mjs, utorrent_client.mjs):
// named steps with one JSON summary on stdout, bounded waits, and an
// observer that reads torrentd's state through API v2 with a session of its
// own (never through the client under test).
//
// The summary protocol (what the pytest side parses): the last stdout line
// is JSON; {"ok": true, "steps": [...], ...} and exit 0, or
// {"ok": false, "step": <failing step>, "error": ..., "summary": {...}} and
// exit 1.

export function scenario(deadlineSeconds) {
  const summary = { ok: true, steps: [] };
  let current = 'start';
  const fail = (error) => {
    console.log(JSON.stringify({ ok: false, step: current, error: String(error?.stack ?? error), summary }));
    process.exit(1);
  };
  const hardDeadline = setTimeout(() => fail('deadline passed'), deadlineSeconds * 1000);
  process.on('uncaughtException', fail);
  return {
    summary,
    fail,
    async step(name, fn) {
      current = name;
      const v = await fn();
      summary.steps.push(name);
      return v;
    },
    run(main) {
      main().then(() => {
        clearTimeout(hardDeadline);
        console.log(JSON.stringify(summary));
        process.exit(0);
      }, fail);
    },
  };
}

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until pred(value) holds; bounded by `seconds`.
export async function until(fn, pred, seconds, what) {
  const end = Date.now() + seconds * 1000;
  let v;
  for (;;) {
    v = await fn();
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`timeout after ${seconds}s waiting for ${what}: ${JSON.stringify(v)?.slice(0, 600)}`);
    await sleep(100);
  }
}

// API v2 with its own SID: v2(path) GETs, v2(path, form) POSTs.
export function observer(base, username, password) {
  let cookie = null;
  async function v2(path, form) {
    if (!cookie) {
      const r = await fetch(`${base}/api/v2/auth/login`, {
        method: 'POST', headers: { Referer: base, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password }),
      });
      cookie = (r.headers.get('set-cookie') || '').split(';')[0];
      check(cookie.startsWith('SID='), 'observer login');
    }
    const init = { headers: { Referer: base, Cookie: cookie } };
    if (form) {
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(form);
    }
    const r = await fetch(`${base}/api/v2/${path}`, init);
    const text = await r.text();
    check(r.status === 200, `observer ${path}: ${r.status} ${text}`);
    try { return JSON.parse(text); } catch { return text; }
  }
  v2.torrent = async (h) => (await v2(`torrents/info?hashes=${h.toLowerCase()}`))
    .find((t) => t.hash === h.toLowerCase()) ?? null;
  return v2;
}
