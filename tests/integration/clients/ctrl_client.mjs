// Drives torrentd with @ctrl/qbittorrent exactly as an application would
// (new QBittorrent({baseUrl, username, password}) and its public methods, no
// hand-made requests), for tests/integration/test_client_ctrl.py.
//
//   node ctrl_client.mjs --base-url URL --username U --password P \
//        --complete A.torrent --hash-complete H --incomplete B.torrent --hash-incomplete H \
//        --queued C.torrent --hash-queued H --save-path DIR --category-path DIR --move-path DIR
//   node ctrl_client.mjs --scenario magnet --base-url URL --username U --password P
//
// main: A's data is already under --save-path (it checks to 100 %); B and C
// have no data. magnet: a magnet nobody serves (metadata never arrives), then
// the calls an application makes on it (category, tags, limits, queue).
// Prints one JSON summary on stdout and exits 0, or prints
// {"ok": false, "step": ..., "error": ...} and exits 1 at the first failing
// step. Every wait is bounded; the whole run has a hard deadline.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { QBittorrent } from '@ctrl/qbittorrent';

const { values: opt } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'main' },
    'base-url': { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    complete: { type: 'string' },
    'hash-complete': { type: 'string' },
    incomplete: { type: 'string' },
    'hash-incomplete': { type: 'string' },
    'save-path': { type: 'string' },
    'category-path': { type: 'string' },
    'move-path': { type: 'string' },
    queued: { type: 'string' },
    'hash-queued': { type: 'string' },
    deadline: { type: 'string', default: '90' },
  },
});
const required = opt.scenario === 'magnet' ? ['base-url', 'username', 'password']
  : ['base-url', 'username', 'password', 'complete', 'hash-complete', 'incomplete', 'hash-incomplete',
    'queued', 'hash-queued', 'save-path', 'category-path', 'move-path'];
for (const k of required) {
  if (!opt[k]) {
    console.log(JSON.stringify({ ok: false, step: 'arguments', error: `--${k} missing` }));
    process.exit(2);
  }
}

const summary = { ok: true, steps: [] };
let current = 'start';
const hardDeadline = setTimeout(() => {
  summary.ok = false;
  console.log(JSON.stringify({ ok: false, step: current, error: 'deadline passed', summary }));
  process.exit(1);
}, Number(opt.deadline) * 1000);

async function step(name, fn) {
  current = name;
  const v = await fn();
  summary.steps.push(name);
  return v;
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until pred(value) holds; bounded by `seconds`.
async function until(fn, pred, seconds, what) {
  const end = Date.now() + seconds * 1000;
  let v;
  for (;;) {
    v = await fn();
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`timeout after ${seconds}s waiting for ${what}: ${JSON.stringify(v)?.slice(0, 400)}`);
    await sleep(100);
  }
}

// The fields of a normalized torrent the test looks at (raw is reported apart).
function brief(t) {
  return {
    id: t.id, name: t.name, state: t.state, stateMessage: t.stateMessage, eta: t.eta,
    isCompleted: t.isCompleted, progress: t.progress, label: t.label, tags: t.tags,
    savePath: t.savePath, queuePosition: t.queuePosition, totalSize: t.totalSize,
    totalSelected: t.totalSelected, dateAdded: t.dateAdded, rawState: t.raw?.state,
  };
}

async function main() {
  const hA = opt['hash-complete'];
  const hB = opt['hash-incomplete'];
  const config = { baseUrl: opt['base-url'], username: opt.username, password: opt.password, timeout: 15000 };

  // A wrong password must fail the way @ctrl expects: no SID cookie.
  await step('login with a wrong password fails', async () => {
    const bad = new QBittorrent({ ...config, password: `${opt.password}-wrong` });
    let err = null;
    try {
      await bad.login();
    } catch (e) {
      err = String(e?.message ?? e);
    }
    check(err !== null, 'login with a wrong password succeeded');
    summary.badLoginError = err;
  });

  const client = new QBittorrent(config);
  await step('login', async () => {
    check((await client.login()) === true, 'login() !== true');
    summary.cookieName = client.state.auth?.cookieName;
    summary.sidLength = client.state.auth?.sid?.length ?? 0;
    summary.isVersion5OrHigher = client.state.version?.isVersion5OrHigher;
  });

  await step('getAppVersion', async () => { summary.appVersion = await client.getAppVersion(); });
  await step('getApiVersion', async () => { summary.apiVersion = await client.getApiVersion(); });
  await step('getDefaultSavePath', async () => { summary.defaultSavePath = await client.getDefaultSavePath(); });

  await step('getPreferences/setPreferences max_active_torrents', async () => {
    const before = (await client.getPreferences()).max_active_torrents;
    check(typeof before === 'number', `max_active_torrents is ${typeof before}`);
    const want = before + 3;
    check((await client.setPreferences({ max_active_torrents: want })) === true, 'setPreferences');
    const after = (await client.getPreferences()).max_active_torrents;
    await client.setPreferences({ max_active_torrents: before });
    const restored = (await client.getPreferences()).max_active_torrents;
    summary.prefs = { before, set: want, after, restored };
  });

  await step('createCategory', async () => {
    check((await client.createCategory('ctrl-tv', opt['category-path'])) === true, 'createCategory');
    summary.categoriesAfterCreate = await client.getCategories();
  });

  await step('addTorrent complete (savepath, category)', async () => {
    const buf = new Uint8Array(readFileSync(opt.complete));
    check((await client.addTorrent(buf, { savepath: opt['save-path'], category: 'ctrl-tv' })) === true,
      'addTorrent');
  });

  await step('addTorrent incomplete (paused, new category)', async () => {
    const buf = new Uint8Array(readFileSync(opt.incomplete));
    check((await client.addTorrent(buf, { savepath: opt['save-path'], category: 'ctrl-new', paused: 'true' })) === true,
      'addTorrent');
  });

  await step('adding the same torrent again is refused', async () => {
    const buf = new Uint8Array(readFileSync(opt.incomplete));
    let err = null;
    try {
      await client.addTorrent(buf, { savepath: opt['save-path'] });
    } catch (e) {
      err = String(e?.message ?? e);
    }
    summary.duplicateAddError = err;
  });

  await step('getTorrent complete reaches 100 %', async () => {
    const t = await until(() => client.getTorrent(hA), (t) => t.isCompleted && t.state === 'seeding',
      30, 'the complete torrent to be checked and seed');
    summary.complete = brief(t);
  });

  await step('getTorrent incomplete', async () => {
    summary.incomplete = brief(await client.getTorrent(hB));
  });

  await step('listTorrents and getAllData', async () => {
    const raw = await client.listTorrents();
    summary.listHashes = raw.map((t) => t.hash).sort();
    const stopped = await client.listTorrents({ filter: 'paused' });   // v5: sent as filter=stopped
    summary.pausedFilterHashes = stopped.map((t) => t.hash).sort();
    const byCat = await client.listTorrents({ category: 'ctrl-tv' });
    summary.categoryFilterHashes = byCat.map((t) => t.hash).sort();
    const all = await client.getAllData();
    summary.allData = {
      torrents: all.torrents.map(brief).sort((a, b) => a.id.localeCompare(b.id)),
      labels: all.labels.sort((a, b) => a.id.localeCompare(b.id)),
      rawCount: all.raw.length,
      rawKeys: Object.keys(all.raw[0] ?? {}).sort(),
    };
  });

  await step('torrentFiles', async () => {
    summary.files = (await client.torrentFiles(hA)).map((f) => ({
      index: f.index, name: f.name, size: f.size, progress: f.progress, priority: f.priority,
    }));
  });

  await step('torrentTrackers', async () => {
    summary.trackers = (await client.torrentTrackers(hA)).map((t) => ({ url: t.url, status: t.status, tier: t.tier }));
  });

  await step('torrentProperties', async () => {
    const p = await client.torrentProperties(hA);
    summary.properties = { save_path: p.save_path, total_size: p.total_size, pieces_num: p.pieces_num,
      pieces_have: p.pieces_have, piece_size: p.piece_size };
  });

  await step('pauseTorrent', async () => {
    check((await client.pauseTorrent([hA, hB])) === true, 'pauseTorrent');
    const t = await until(() => client.getTorrent(hA), (t) => t.raw.state.startsWith('stopped') || t.raw.state.startsWith('paused'),
      10, 'the complete torrent to stop');
    summary.afterPause = brief(t);
  });

  await step('resumeTorrent', async () => {
    check((await client.resumeTorrent(hA)) === true, 'resumeTorrent');
    const t = await until(() => client.getTorrent(hA), (t) => !t.raw.state.startsWith('stopped') && !t.raw.state.startsWith('paused'),
      10, 'the complete torrent to start');
    summary.afterResume = brief(t);
  });

  await step('setTorrentCategory', async () => {
    check((await client.setTorrentCategory(hB, 'ctrl-tv')) === true, 'setTorrentCategory');
    summary.afterSetCategory = brief(await client.getTorrent(hB));
    summary.categories = await client.getCategories();
  });

  await step('addTorrentTags', async () => {
    check((await client.addTorrentTags(hA, 'ctrl-a,ctrl-b')) === true, 'addTorrentTags');
    summary.afterTags = brief(await client.getTorrent(hA));
    summary.tagList = (await client.getTags()).sort();
  });

  // The rest of what @ctrl wraps and §10.4 lists, each checked by the test.
  await step('getBuildInfo', async () => { summary.buildInfo = await client.getBuildInfo(); });

  await step('getSyncMainData', async () => {
    const md = await client.getSyncMainData(0);
    summary.maindata = { full_update: md.full_update, rid: md.rid, hashes: Object.keys(md.torrents ?? {}).sort(),
      hasServerState: typeof md.server_state === 'object' };
  });

  await step('torrentPeers', async () => {
    const p = await client.torrentPeers(hA);
    summary.peers = { full_update: p.full_update, rid: p.rid, peers: p.peers };
  });

  await step('torrentPieceHashes/torrentPieceStates/torrentWebSeeds', async () => {
    summary.pieceHashes = await client.torrentPieceHashes(hA);
    summary.pieceStates = await client.torrentPieceStates(hA);
    summary.webSeeds = await client.torrentWebSeeds(hA);
  });

  await step('setFilePriority', async () => {
    check((await client.setFilePriority(hA, '1', 7)) === true, 'setFilePriority');
    summary.filePriosAfter = (await client.torrentFiles(hA)).map((f) => f.priority);
  });

  await step('torrent speed limits', async () => {
    await client.setTorrentDownloadLimit(hA, 102400);
    await client.setTorrentUploadLimit([hA, hB], 51200);
    summary.dlLimit = await client.getTorrentDownloadLimit(hA);
    summary.upLimit = await client.getTorrentUploadLimit([hA, hB]);
  });

  const hC = opt['hash-queued'];
  await step('normalizedAddTorrent (paused, label)', async () => {
    const buf = new Uint8Array(readFileSync(opt.queued));
    summary.queued = brief(await client.normalizedAddTorrent(buf, { startPaused: true, label: 'ctrl-tv' }));
  });

  await step('queue: bottomPriority/topPriority/queueDown/queueUp', async () => {
    const pos = async () => {
      const l = await client.listTorrents({ hashes: [hB, hC] });
      return Object.fromEntries(l.map((t) => [t.hash === hB ? 'B' : 'C', t.priority]));
    };
    // qBittorrent answers 409 "Torrent queueing must be enabled" otherwise
    await client.setPreferences({ queueing_enabled: true });
    summary.queue = { start: await pos() };
    await client.bottomPriority(hB);
    summary.queue.bottomB = await pos();
    await client.topPriority(hB);
    summary.queue.topB = await pos();
    await client.queueDown(hB);
    summary.queue.downB = await pos();
    await client.queueUp(hB);
    summary.queue.upB = await pos();
  });

  await step('setTorrentName', async () => {
    await client.setTorrentName(hB, 'ctrl renamed');
    summary.renamed = (await client.getTorrent(hB)).name;
  });

  await step('setTorrentLocation', async () => {
    await client.setTorrentLocation(hB, opt['move-path']);
    const t = await until(() => client.getTorrent(hB), (t) => t.savePath.replace(/\/$/, '') === opt['move-path'].replace(/\/$/, ''),
      10, 'the new save path');
    summary.moved = brief(t);
  });

  await step('addTrackers/removeTrackers', async () => {
    const extra = 'http://127.0.0.1:10/announce';
    await client.addTrackers(hA, extra);
    summary.trackersAdded = (await client.torrentTrackers(hA)).map((t) => t.url);
    await client.removeTrackers(hA, extra);
    summary.trackersRemoved = (await client.torrentTrackers(hA)).map((t) => t.url);
  });

  // @ctrl's editTrackers posts to torrents/editTrackers, which qBittorrent
  // does not have (404): a client bug torrentd must answer the same way.
  await step('editTrackers (non-existent endpoint)', async () => {
    let status = null;
    try {
      await client.editTrackers(hA, 'http://127.0.0.1:9/announce', 'http://127.0.0.1:11/announce');
      status = 200;
    } catch (e) {
      status = e?.response?.status ?? String(e);
    }
    summary.editTrackersStatus = status;
  });

  await step('reannounceTorrent/recheckTorrent', async () => {
    check((await client.reannounceTorrent(hA)) === true, 'reannounce');
    check((await client.recheckTorrent(hA)) === true, 'recheck');
    const t = await until(() => client.getTorrent(hA), (t) => t.isCompleted && t.state === 'seeding',
      30, 'the rechecked torrent to seed again');
    summary.afterRecheck = brief(t);
  });

  await step('createTags/deleteTags/removeTorrentTags', async () => {
    await client.createTags('ctrl-x,ctrl-y');
    summary.tagsCreated = (await client.getTags()).sort();
    await client.deleteTags('ctrl-x');
    await client.removeTorrentTags(hA, 'ctrl-a');
    summary.tagsAfterDelete = (await client.getTags()).sort();
    summary.torrentTagsAfterRemove = (await client.getTorrent(hA)).tags;
  });

  await step('editCategory/removeCategory', async () => {
    await client.editCategory('ctrl-tv', opt['move-path']);
    await client.removeCategory('ctrl-new');
    summary.categoriesEdited = await client.getCategories();
  });

  // A stale session (e.g. the daemon restarted) must be replaced by a fresh
  // login transparently: @ctrl retries once after a 403.
  await step('stale SID is replaced by a new login', async () => {
    const stale = QBittorrent.createFromState(config, {
      auth: { sid: 'A'.repeat(32), cookieName: 'SID', expires: new Date(Date.now() + 3_600_000).toISOString() },
      version: { version: summary.appVersion, isVersion5OrHigher: true },
    });
    summary.staleSessionVersion = await stale.getApiVersion();
    summary.staleSessionNewSid = stale.state.auth?.sid !== 'A'.repeat(32);
  });

  await step('removeTorrent with deleteFiles', async () => {
    check((await client.removeTorrent(hA, true)) === true, 'removeTorrent');
    check((await client.removeTorrent([hB, hC], false)) === true, 'removeTorrent');
    const left = await until(() => client.listTorrents(), (l) => !l.some((t) => [hA, hB, hC].includes(t.hash)),
      10, 'every torrent to be gone');
    summary.afterRemoveCount = left.length;
    let err = null;
    try {
      await client.getTorrent(hA);
    } catch (e) {
      err = String(e?.message ?? e);
    }
    summary.getRemovedError = err;
  });

  await step('logout', async () => { summary.logout = client.logout(); });
}

// A magnet whose metadata never arrives, driven like any other torrent.
async function magnet() {
  const config = { baseUrl: opt['base-url'], username: opt.username, password: opt.password, timeout: 15000 };
  const client = new QBittorrent(config);
  const h = randomBytes(20).toString('hex');
  summary.magnetHash = h;
  await step('login', async () => { check((await client.login()) === true, 'login() !== true'); });
  await step('createCategory', async () => { await client.createCategory('ctrl-mag', ''); });
  await step('normalizedAddTorrent magnet (paused, label)', async () => {
    summary.added = brief(await client.normalizedAddTorrent(`magnet:?xt=urn:btih:${h}&dn=ctrl-magnet`,
      { startPaused: true, label: 'ctrl-mag' }));
  });
  await step('setTorrentCategory', async () => {
    await client.setTorrentCategory(h, '');
    summary.afterCategory = brief(await client.getTorrent(h));
  });
  await step('addTorrentTags', async () => {
    await client.addTorrentTags(h, 'ctrl-m');
    summary.afterTags = brief(await client.getTorrent(h));
  });
  await step('setTorrentUploadLimit', async () => {
    await client.setTorrentUploadLimit(h, 4096);
    summary.upLimit = await client.getTorrentUploadLimit(h);
  });
  await step('queueing on, topPriority', async () => {
    await client.setPreferences({ queueing_enabled: true });
    await client.topPriority(h);
    summary.afterTop = brief(await client.getTorrent(h));
  });
  await step('resumeTorrent/pauseTorrent', async () => {
    await client.resumeTorrent(h);
    summary.afterResume = brief(await client.getTorrent(h));
    await client.pauseTorrent(h);
    summary.afterPause = brief(await client.getTorrent(h));
  });
  await step('removeTorrent', async () => {
    await client.removeTorrent(h, true);
    summary.left = (await client.listTorrents()).length;
  });
}

try {
  await (opt.scenario === 'magnet' ? magnet() : main());
  clearTimeout(hardDeadline);
  console.log(JSON.stringify(summary));
  process.exit(0);
} catch (e) {
  clearTimeout(hardDeadline);
  summary.ok = false;
  const detail = { ok: false, step: current, error: String(e?.stack ?? e) };
  if (e?.response) {
    detail.status = e.response.status;
    detail.url = e.response.url;
    detail.body = String(e.data ?? '').slice(0, 500);
  }
  detail.summary = summary;
  console.log(JSON.stringify(detail));
  process.exit(1);
}
