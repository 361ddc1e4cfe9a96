// Drives torrentd's qBittorrent API v1 with the npm package qbittorrent-api
// 1.0.0 exactly as an application would (qbt.connect(host, user, password)
// and the methods of the object it returns, no hand-made requests), for
// tests/integration/test_client_qbtapi.py. Every method the package offers is
// called at least once.
//
//   node qbtapi_client.mjs --base-url URL --username U --password P \
//        --complete A.torrent --hash-complete H --incomplete B.torrent --hash-incomplete H \
//        --queued C.torrent --hash-queued H --url-torrent URL --url-host HOST:PORT --hash-url H \
//        --magnet-hash H --save-path DIR
//
// A's data is already under --save-path (it checks to 100 %); B and C have no
// data and nobody serves them. --url-torrent is served on loopback only to a
// request that carries the cookie given to the package's setCookie(); the
// magnet is served by nobody.
//
// The package reports no HTTP status (only the login's), so every command is
// followed by a read through the package itself ("client" fields) and, apart,
// through API v2 by an observer with its own session ("v2" fields): the test
// compares both with what it expects. Prints one JSON summary on stdout and
// exits 0, or {"ok": false, "step": ..., "error": ...} and exits 1 at the
// first failing step. Every wait is bounded; the whole run has a deadline.
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { check, observer, scenario, until } from './scenario.mjs';

const require = createRequire(import.meta.url);
const qbt = require('qbittorrent-api');

const { values: opt } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    complete: { type: 'string' },
    'hash-complete': { type: 'string' },
    incomplete: { type: 'string' },
    'hash-incomplete': { type: 'string' },
    queued: { type: 'string' },
    'hash-queued': { type: 'string' },
    'url-torrent': { type: 'string' },
    'url-host': { type: 'string' },
    'hash-url': { type: 'string' },
    'magnet-hash': { type: 'string' },
    'save-path': { type: 'string' },
    deadline: { type: 'string', default: '100' },
  },
});
for (const k of ['base-url', 'username', 'password', 'complete', 'hash-complete', 'incomplete',
  'hash-incomplete', 'queued', 'hash-queued', 'url-torrent', 'url-host', 'hash-url', 'magnet-hash',
  'save-path']) {
  if (!opt[k]) {
    console.log(JSON.stringify({ ok: false, step: 'arguments', error: `--${k} missing` }));
    process.exit(2);
  }
}

const base = opt['base-url'];
const { summary, step, fail, run } = scenario(Number(opt.deadline));
// the observer: API v2 with its own session (not the client under test)
const v2 = observer(base, opt.username, opt.password);
const v2t = v2.torrent;

// The package's methods take a node-style callback last; `call(c, 'm', a, b)`
// awaits c.m(a, b, callback). Errors are transport errors only.
function call(client, method, ...args) {
  return new Promise((resolve, reject) => {
    client[method](...args, (err, v) => (err ? reject(err) : resolve(v)));
  });
}

// The v1 fields the test looks at.
function brief(t) {
  if (!t) return null;
  return {
    hash: t.hash, name: t.name, size: t.size, progress: t.progress, state: t.state,
    category: t.category, save_path: t.save_path, priority: t.priority, seq_dl: t.seq_dl,
    f_l_piece_prio: t.f_l_piece_prio, force_start: t.force_start, dl_limit: t.dl_limit,
    up_limit: t.up_limit, ratio: t.ratio,
  };
}
const hashes = (l) => l.map((t) => t.hash).sort();

async function main() {
  const hA = opt['hash-complete'];
  const hB = opt['hash-incomplete'];
  const hC = opt['hash-queued'];
  const hU = opt['hash-url'];
  const hM = opt['magnet-hash'];
  const save = opt['save-path'];

  // A wrong password: 4.x answers 200 "Fails.", which this package takes for
  // success (it only looks at the status); the next call is refused (403).
  await step('connect with a wrong password', async () => {
    const bad = qbt.connect(base, opt.username, `${opt.password}-wrong`);
    summary.badPasswordTransferInfo = await call(bad, 'transferInfo');
    summary.badPasswordVersion = await call(bad, 'version');   // public
  });

  const c = qbt.connect(base, opt.username, opt.password);
  const mine = (h) => call(c, 'all').then((l) => brief(l.find((t) => t.hash === h)));

  await step('version/api/apiMin', async () => {
    summary.version = await call(c, 'version');
    summary.api = await call(c, 'api');
    summary.apiMin = await call(c, 'apiMin');
  });

  await step('preferences/setPreferences', async () => {
    const before = (await call(c, 'preferences')).max_active_downloads;
    check(typeof before === 'number', `max_active_downloads is ${typeof before}`);
    await call(c, 'setPreferences', { max_active_downloads: before + 2 });
    const after = (await call(c, 'preferences')).max_active_downloads;
    const v2after = (await v2('app/preferences')).max_active_downloads;
    await call(c, 'setPreferences', { max_active_downloads: before });
    summary.prefs = { before, after, v2after, restored: (await call(c, 'preferences')).max_active_downloads };
  });

  await step('transferInfo', async () => { summary.transferInfo = await call(c, 'transferInfo'); });

  await step('global limits', async () => {
    const g = {};
    g.dlBefore = await call(c, 'getGlobalDlLimit');
    g.upBefore = await call(c, 'getGlobalUpLimit');
    await call(c, 'setGlobalDlLimit', 204800);
    await call(c, 'setGlobalUpLimit', 102400);
    g.dl = await call(c, 'getGlobalDlLimit');
    g.up = await call(c, 'getGlobalUpLimit');
    g.v2dl = await v2('transfer/downloadLimit');
    g.v2up = await v2('transfer/uploadLimit');
    await call(c, 'setGlobalDlLimit', 0);
    await call(c, 'setGlobalUpLimit', 0);
    g.dlAfter = await call(c, 'getGlobalDlLimit');
    g.upAfter = await call(c, 'getGlobalUpLimit');
    summary.globalLimits = g;
  });

  await step('alternative speed limits', async () => {
    const a = {};
    a.before = await call(c, 'alternativeSpeedLimitsEnabled');
    await call(c, 'toggleAlternativeSpeedLimits', null);
    a.toggled = await call(c, 'alternativeSpeedLimitsEnabled');
    a.v2toggled = await v2('transfer/speedLimitsMode');
    await call(c, 'toggleAlternativeSpeedLimits', null);
    a.after = await call(c, 'alternativeSpeedLimitsEnabled');
    summary.altSpeed = a;
  });

  await step('add: a file path with save path and label', async () => {
    await call(c, 'add', opt.complete, save, 'qa-tv');
    summary.complete = await until(() => mine(hA), (t) => t && t.progress === 1, 30, 'A checked to 100 %');
    summary.completeV2 = brief(await v2t(hA));
  });

  await step('add: a readable stream, save path only', async () => {
    await call(c, 'add', createReadStream(opt.incomplete), save);
    summary.incomplete = await until(() => mine(hB), (t) => t !== null, 10, 'B listed');
  });

  await step('add: a file path, nothing else', async () => {
    await call(c, 'add', opt.queued);
    summary.queued = await until(() => mine(hC), (t) => t !== null, 10, 'C listed');
  });

  await step('setCookie + add: an http URL that needs the cookie', async () => {
    c.setCookie(opt['url-host'], 'auth=yes; from=qbittorrent-api');
    await call(c, 'add', opt['url-torrent'], save, 'qa-url');
    summary.fromUrl = await until(() => mine(hU), (t) => t !== null, 15, 'the URL torrent listed');
  });

  // add() puts `cookie: cookies.get(host)` into the multipart form; with no
  // cookie stored for the URL's host (a magnet has no host) the value is
  // undefined and form-data throws inside the package's queue worker before
  // anything is sent. Done on a second connection: the queue of the throwing
  // one never runs again.
  await step('add: a magnet (the package throws before sending)', async () => {
    const m = qbt.connect(base, opt.username, opt.password);
    await call(m, 'version');
    summary.magnetError = await new Promise((resolve) => {
      process.removeListener('uncaughtException', fail);
      process.once('uncaughtException', (e) => {
        process.on('uncaughtException', fail);
        resolve(String(e?.message ?? e));
      });
      m.add(`magnet:?xt=urn:btih:${hM}&dn=qa+magnet`, save, 'qa-tv', () => resolve(null));
    });
    summary.magnetListed = (await mine(hM)) !== null || (await v2t(hM)) !== null;
  });

  await step('lists', async () => {
    const all = hashes([hA, hB, hC, hU].map((hash) => ({ hash })));
    // let B, C, U and the magnet leave checking so the filters are stable
    await until(() => call(c, 'all'), (l) => l.length === 4 && l.every((t) => !t.state.startsWith('checking')),
      20, 'four torrents, none checking');
    const L = {};
    for (const f of ['all', 'downloading', 'seeding', 'completed', 'resumed', 'paused', 'active',
      'inactive', 'queued', 'errored']) {
      L[f] = hashes(await call(c, f));
    }
    L.allLabelTv = hashes(await call(c, 'all', 'qa-tv'));
    L.downloadingLabelTv = hashes(await call(c, 'downloading', 'qa-tv'));
    L.sortedByNameReverse = (await call(c, 'all', { sort: 'name', reverse: true })).map((t) => t.name);
    L.limitOffset = (await call(c, 'all', { sort: 'name', limit: 2, offset: 1 })).map((t) => t.name);
    L.searchString = hashes(await call(c, 'search', 'qa-'));
    L.searchRegExp = hashes(await call(c, 'search', /^qa-(complete|queued)/));
    L.searchPaused = hashes(await call(c, 'search', 'qa', { filter: 'paused' }));
    L.expectAll = all;
    L.states = Object.fromEntries((await call(c, 'all')).map((t) => [t.hash, t.state]));
    summary.lists = L;
  });

  await step('details/trackers/webseeds/files (hash and object forms)', async () => {
    summary.details = await call(c, 'details', hA);
    summary.trackers = await call(c, 'trackers', { hash: hA });
    summary.webseeds = await call(c, 'webseeds', hA);
    summary.files = await call(c, 'files', [hA]);
    summary.detailsUnknown = await call(c, 'details', '0'.repeat(40));
  });

  await step('addTrackers', async () => {
    await call(c, 'addTrackers', hA, ['http://127.0.0.1:10/announce', 'http://127.0.0.1:11/announce?a=1&b=2']);
    summary.trackersAfter = (await call(c, 'trackers', hA)).map((t) => t.url);
  });

  await step('pause/resume (one request per hash)', async () => {
    await call(c, 'pause', [hA, { hash: hB }]);
    summary.afterPause = { A: (await mine(hA)).state, B: (await mine(hB)).state,
      v2A: (await v2t(hA)).state, v2B: (await v2t(hB)).state };
    await call(c, 'resume', [hA, hB]);
    summary.afterResume = await until(async () => ({ A: (await mine(hA)).state, B: (await mine(hB)).state }),
      (s) => !s.A.startsWith('paused') && !s.B.startsWith('paused'), 10, 'A and B resumed');
  });

  await step('pauseAll/resumeAll', async () => {
    await call(c, 'pauseAll');
    summary.afterPauseAll = Object.fromEntries((await call(c, 'all')).map((t) => [t.hash, t.state]));
    summary.pausedAfterPauseAll = hashes(await call(c, 'paused'));
    await call(c, 'resumeAll');
    summary.afterResumeAll = await until(
      async () => Object.fromEntries((await call(c, 'all')).map((t) => [t.hash, t.state])),
      (m) => Object.values(m).every((s) => !s.startsWith('paused')), 10, 'all resumed');
  });

  await step('recheck', async () => {
    await call(c, 'recheck', hA);
    summary.afterRecheck = await until(() => mine(hA),
      (t) => t.progress === 1 && !t.state.startsWith('checking'), 30, 'A rechecked');
  });

  await step('setFilePrio', async () => {
    await call(c, 'setFilePrio', hA, 1, 0);
    summary.filePrioSkip = (await call(c, 'files', hA)).map((f) => f.priority);
    summary.filePrioSkipV2 = (await v2(`torrents/files?hash=${hA}`)).map((f) => f.priority);
    await call(c, 'setFilePrio', [hA], 1, 7);
    summary.filePrioMax = (await call(c, 'files', hA)).map((f) => f.priority);
    await call(c, 'setFilePrio', hA, 1, 1);
    summary.filePrioNormal = (await call(c, 'files', hA)).map((f) => f.priority);
  });

  await step('queue: increasePrio/decreasePrio/topPrio/bottomPrio', async () => {
    const q = async () => Object.fromEntries(
      (await call(c, 'all')).filter((t) => [hB, hC].includes(t.hash)).map((t) => [t.hash === hB ? 'B' : 'C', t.priority]));
    const Q = { start: await q() };
    await call(c, 'bottomPrio', hB);
    Q.bottomB = await q();
    await call(c, 'topPrio', [hB]);
    Q.topB = await q();
    await call(c, 'decreasePrio', hB);
    Q.downB = await q();
    await call(c, 'increasePrio', { hash: hB });
    Q.upB = await q();
    summary.queue = Q;
  });

  await step('per-torrent limits', async () => {
    await call(c, 'setDlLimit', [hA, hB], 51200);
    await call(c, 'setUpLimit', hA, 25600);
    summary.dlLimit = await call(c, 'getDlLimit', hA);
    summary.upLimit = await call(c, 'getUpLimit', { hash: hA });
    summary.dlLimitB = await call(c, 'getDlLimit', hB);
    summary.limitsV2 = { A: [(await v2t(hA)).dl_limit, (await v2t(hA)).up_limit], B: (await v2t(hB)).dl_limit };
  });

  await step('setLabel', async () => {
    await call(c, 'setLabel', [hB, hC], 'qa-tv');
    summary.labelB = (await mine(hB)).category;
    summary.labelCV2 = (await v2t(hC)).category;
    await call(c, 'setLabel', hC, '');
    summary.labelCCleared = (await mine(hC)).category;
    summary.setLabelUnknown = await call(c, 'setLabel', hC, 'no-such-label');
    summary.labelCAfterUnknown = (await mine(hC)).category;
  });

  await step('toggleSeqDl/toggleFirstLastPiecePrio', async () => {
    await call(c, 'toggleSeqDl', hB);
    await call(c, 'toggleFirstLastPiecePrio', [hB]);
    const t = await mine(hB);
    summary.toggled = { seq_dl: t.seq_dl, f_l_piece_prio: t.f_l_piece_prio };
    await call(c, 'toggleSeqDl', hB);
    summary.toggledBack = (await mine(hB)).seq_dl;
  });

  await step('setForceStart', async () => {
    await call(c, 'setForceStart', hC, true);
    summary.forced = await mine(hC);
    await call(c, 'setForceStart', hC, false);
    summary.unforced = (await mine(hC)).force_start;
  });

  await step('delete/deleteData', async () => {
    await call(c, 'delete', hC);
    await call(c, 'deleteData', [hA, hU]);
    summary.left = await until(async () => hashes(await call(c, 'all')), (l) => l.length === 1, 15,
      'only B left');
    summary.leftV2 = (await v2('torrents/info')).map((t) => t.hash);
  });
}

run(main);
