// Drives torrentd's µTorrent /gui/ with the npm package @ctrl/utorrent 6.6.2
// exactly as an application would (new Utorrent({baseUrl, path, username,
// password}) and its public methods, no hand-made requests), for
// tests/integration/test_client_utorrent.py.
//
//   node utorrent_client.mjs --base-url URL --username U --password P \
//        --fixture F.torrent --fixture-name NAME --complete C.torrent --hash-complete H \
//        --url-torrent URL --hash-url H
//
// Part 1 repeats the package's own test cases (its test/index.spec.ts, not
// shipped in the npm tarball; ../shared/docs/clients-wave2.md §1.1) against
// torrentd, with --fixture standing in for the Ubuntu ISO torrent: every case
// starts from an empty client and ends with every torrent removed through
// removetorrent, as its afterEach does. Part 2 calls every other method the
// package offers. --complete's data is already in the default save path (it
// checks to 100 %); --url-torrent is served on loopback.
//
// Results are read back through the package and, apart, through API v2 by an
// observer with its own session. Prints one JSON summary (scenario.mjs).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Utorrent } from '@ctrl/utorrent';
import { check, observer, scenario, until } from './scenario.mjs';

const { values: opt } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    fixture: { type: 'string' },
    'fixture-name': { type: 'string' },
    complete: { type: 'string' },
    'hash-complete': { type: 'string' },
    'url-torrent': { type: 'string' },
    'hash-url': { type: 'string' },
    deadline: { type: 'string', default: '100' },
  },
});
for (const k of ['base-url', 'username', 'password', 'fixture', 'fixture-name', 'complete', 'hash-complete',
  'url-torrent', 'hash-url']) {
  if (!opt[k]) {
    console.log(JSON.stringify({ ok: false, step: 'arguments', error: `--${k} missing` }));
    process.exit(2);
  }
}

const base = opt['base-url'];
const { summary, step, run } = scenario(Number(opt.deadline));
const v2 = observer(base, opt.username, opt.password);
const config = { baseUrl: base, path: '/gui/', username: opt.username, password: opt.password, timeout: 15000 };
const fixture = new Uint8Array(readFileSync(opt.fixture));
const MAGNET = 'magnet:?xt=urn:btih:B84E74C1A73C4F6E30B8C7DC2A9F1D2F1E5D0A11&dn=Ubuntu+11+10+Alternate+Amd64+Iso';

async function errorOf(p) {
  try {
    await p;
    return null;
  } catch (e) {
    return { message: String(e?.message ?? e), status: e?.response?.status ?? e?.statusCode ?? null };
  }
}

async function attempt(fn) {
  try {
    return { value: await fn() };
  } catch (e) {
    return { error: String(e?.message ?? e), status: e?.response?.status ?? null };
  }
}

// The package's afterEach: every torrent removed with removetorrent.
async function removeAll(client) {
  const res = await client.listTorrents();
  for (const t of res.torrents) {
    await client.removeTorrent(t[0]);
  }
  await until(async () => (await client.listTorrents()).torrents.length, (n) => n === 0, 10, 'all removed');
}

async function main() {
  const client = new Utorrent(config);
  const spec = {};
  summary.spec = spec;

  // ---- part 1: the package's own test cases ----
  await step('spec: should be instantiated / connect', async () => {
    await client.connect();
    spec.tokenLength = client.state.auth?.token?.length ?? 0;
    spec.setCookie = client.state.auth?.setCookie ?? '';
    await removeAll(client);
  });

  await step('spec: should add torrent from buffer', async () => {
    await client.addTorrent(fixture);
    spec.afterAddBuffer = (await client.listTorrents()).torrents.length;
    await removeAll(client);
  });

  await step('spec: should add torrent from base64 string', async () => {
    await client.addTorrent(Buffer.from(fixture).toString('base64'));
    spec.afterAddBase64 = (await client.listTorrents()).torrents.length;
    await removeAll(client);
  });

  await step('spec: should get settings', async () => {
    const res = await client.getSettings();
    spec.settingsIsArray = Array.isArray(res.settings);
    spec.settingsBuild = res.build;
  });

  await step('spec: should get torrents', async () => {
    await client.addTorrent(fixture);
    const res = await client.listTorrents();
    spec.listLength = res.torrents.length;
    spec.listName = res.torrents[0][2];
    spec.listBuild = res.build;
    spec.listTorrentc = res.torrentc;
    spec.listRow = res.torrents[0];
    await removeAll(client);
  });

  await step('spec: should queue up/down/top/bottom', async () => {
    await client.addTorrent(fixture);
    const h = (await client.listTorrents()).torrents[0][0];
    spec.queue = [];
    for (const m of ['queueUp', 'queueDown', 'queueTop', 'queueBottom']) {
      const r = await client[m](h);
      spec.queue.push([m, r?.build ?? null]);
    }
    await removeAll(client);
  });

  await step('spec: should remove torrent', async () => {
    await client.addTorrent(fixture);
    const h = (await client.listTorrents()).torrents[0][0];
    await client.removeTorrent(h);
    spec.afterRemove = (await client.listTorrents()).torrents.length;
  });

  await step('spec: should return normalized torrent data', async () => {
    const t = await client.normalizedAddTorrent(fixture);
    spec.normalized = {
      connectedPeers: t.connectedPeers, connectedSeeds: t.connectedSeeds, downloadSpeed: t.downloadSpeed,
      eta: t.eta, isCompleted: t.isCompleted, label: t.label, name: t.name, queuePosition: t.queuePosition,
      ratio: t.ratio, state: t.state, totalPeers: t.totalPeers, totalSeeds: t.totalSeeds,
      totalSelected: t.totalSelected, totalSize: t.totalSize, totalUploaded: t.totalUploaded,
      totalDownloaded: t.totalDownloaded, uploadSpeed: t.uploadSpeed, progress: t.progress, id: t.id,
      dateAdded: t.dateAdded, savePath: t.savePath,
    };
    await removeAll(client);
  });

  await step('spec: should add normalized torrent with label', async () => {
    const t = await client.normalizedAddTorrent(fixture, { label: 'test' });
    spec.normalizedLabel = t.label;
    spec.normalizedLabelV2 = (await v2.torrent(t.id))?.category;
    await removeAll(client);
  });

  await step('spec: should add magnet link', async () => {
    const t = await client.normalizedAddTorrent(MAGNET);
    spec.magnetName = t.name;
    spec.magnetId = t.id;
    await removeAll(client);
  });

  // ---- part 2: every other call ----
  const hC = opt['hash-complete'];
  const hU = opt['hash-url'];
  const mine = async (h) => {
    const row = (await client.listTorrents()).torrents.find((r) => r[0].toLowerCase() === h.toLowerCase());
    return row ? { status: row[1], progress: row[4], label: row[11], queue: row[17], state: null, row } : null;
  };

  await step('getVersion', async () => { summary.version = await client.getVersion(); });

  await step('wrong password: connect refused', async () => {
    const bad = new Utorrent({ ...config, password: `${opt.password}-wrong` });
    summary.badPassword = await errorOf(bad.connect());
  });

  await step('normalizedAddTorrent: startPaused and a label', async () => {
    const t = await client.normalizedAddTorrent(new Uint8Array(readFileSync(opt.complete)),
      { startPaused: true, label: 'ut-tv' });
    summary.addedPaused = { id: t.id, state: t.state, label: t.label, savePath: t.savePath };
    summary.addedPausedV2 = await v2.torrent(hC);
  });

  await step('unpause / resumeTorrent: checks to 100 %', async () => {
    await client.unpause(hC);
    summary.afterUnpause = await until(() => client.getTorrent(hC),
      (t) => t.state === 'seeding' && t.progress === 100, 30, 'the complete torrent seeding');
    await client.pauseTorrent(hC);
    summary.afterPause = { gui: await client.getTorrent(hC), v2: (await v2.torrent(hC)).state };
    await client.resumeTorrent(hC);
    summary.afterResume = { gui: (await client.getTorrent(hC)).state, v2: (await v2.torrent(hC)).state };
  });

  await step('stopTorrent / forceStartTorrent', async () => {
    await client.stopTorrent(hC);
    summary.afterStop = { status: (await mine(hC)).status, v2: (await v2.torrent(hC)).state };
    await client.forceStartTorrent(hC);
    summary.afterForce = { status: (await mine(hC)).status, v2: await v2.torrent(hC) };
  });

  await step('setProps: label', async () => {
    await client.setProps(hC, { s: 'label', v: 'ut-movies' });
    summary.setPropsLabel = { gui: (await mine(hC)).label, v2: (await v2.torrent(hC)).category };
  });

  await step('addTorrentFromUrl: http', async () => {
    summary.addUrl = await client.addTorrentFromUrl(opt['url-torrent']);
    summary.fromUrl = await until(() => mine(hU), (t) => t !== null, 15, 'the URL torrent listed');
  });

  await step('getAllData', async () => {
    const d = await client.getAllData();
    summary.allData = {
      ids: d.torrents.map((t) => t.id).sort(),
      labels: d.labels.map((l) => [l.id, l.count]).sort(),
      rawKeys: Object.keys(d.raw).sort(),
    };
  });

  await step('getTorrent: unknown hash', async () => {
    summary.getUnknown = await errorOf(client.getTorrent('0'.repeat(40)));
  });

  // setsetting and the RSS calls answer {"build"} or an error; either is
  // recorded (the test says which it expects)
  await step('setSetting', async () => {
    const get = async (k) => (await client.getSettings()).settings.find((x) => x[0] === k) ?? null;
    summary.settingBefore = await get('max_ul_rate');
    summary.setSetting = await attempt(() => client.setSetting([['max_ul_rate', 77], ['max_dl_rate', 99]]));
    summary.settingAfter = [await get('max_ul_rate'), await get('max_dl_rate')];
    summary.settingV2 = [await v2('transfer/uploadLimit'), await v2('transfer/downloadLimit')];
    await attempt(() => client.setSetting([['max_ul_rate', 0], ['max_dl_rate', 0]]));
  });

  await step('rssUpdate / rssRemove', async () => {
    summary.rssUpdate = await attempt(() => client.rssUpdate('http://127.0.0.1:9/feed.xml', -1, 'ut-feed'));
    const raw = await client.listTorrents();
    summary.rssfeeds = raw.rssfeeds ?? null;
    const feed = (raw.rssfeeds ?? []).find((f) => String(f[6]).includes('feed.xml'));
    summary.rssRemove = await attempt(() => client.rssRemove(feed ? feed[0] : 1));
    summary.rssfeedsAfter = (await client.listTorrents()).rssfeeds ?? null;
  });

  await step('exportState / createFromState: the session carries over', async () => {
    const state = client.exportState();
    const again = Utorrent.createFromState(config, state);
    summary.fromStateSameToken = again.state.auth.token === client.state.auth.token;
    summary.fromStateList = (await again.listTorrents()).torrents.length;
  });

  await step('a stale token: the package does not reconnect by itself', async () => {
    const state = client.exportState();
    state.auth.token = 'x'.repeat(state.auth.token.length);
    const stale = Utorrent.createFromState(config, state);
    summary.staleToken = await errorOf(stale.listTorrents());
    stale.resetSession();
    summary.afterResetSession = (await stale.listTorrents()).torrents.length;
  });

  await step('logout, then a call reconnects', async () => {
    check(client.logout() === true, 'logout');
    summary.afterLogoutList = (await client.listTorrents()).torrents.length;
    summary.newToken = client.state.auth?.token?.length ?? 0;
  });

  await step('removeTorrent with data', async () => {
    summary.removeData = await client.removeTorrent(hC, true);
    await client.removeTorrent(hU, false);
    summary.left = await until(async () => (await client.listTorrents()).torrents.length, (n) => n === 0, 15,
      'all removed');
    summary.leftV2 = (await v2('torrents/info')).length;
  });
}

run(main);
