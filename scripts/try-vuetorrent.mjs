// Browser half of scripts/try-vuetorrent.sh: drives VueTorrent in headless
// Debian chromium (playwright-core from $PW_DIR) against torrentd at $VT_URL.
// Logs in, checks the torrent list, opens a torrent's trackers/peers/content
// tabs, adds a magnet, stops and starts it, drives the RSS page (feed,
// articles, read marks, refresh, a download rule) and the search page (plugin
// install, search, results, download), saves a preference; records
// console errors, page errors and every HTTP answer >= 400; screenshots go to
// $VT_OUT. Exit status 0 when every check passed.
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'

const require = createRequire(path.join(process.env.PW_DIR || '/tmp/pw', 'package.json'))
const { chromium } = require('playwright-core')

const URL = process.env.VT_URL
const OUT = process.env.VT_OUT
const NAMES = JSON.parse(process.env.VT_NAMES || '[]')
const MAGNET = process.env.VT_MAGNET
const MAGNET_NAME = new globalThis.URL(MAGNET).searchParams.get('dn')
const results = []
const consoleErrors = []
const failed = []
let shot = 0

function check(ok, what) {
  results.push([!!ok, what])
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}`)
}

async function snap(page, name) {
  const f = path.join(OUT, `vt-${String(++shot).padStart(2, '0')}-${name}.png`)
  await page.screenshot({ path: f, fullPage: true })
  console.log(`      screenshot ${f}`)
  // what a missing or mistyped field turns into on screen
  const body = await page.locator('body').innerText()
  const junk = body.match(/\b(NaN|undefined|null|Invalid Date|Infinity)\b/g)
  check(!junk, `${name}: no ${junk ? junk.join(', ') : 'NaN/undefined/null/Invalid Date'} on screen`)
}

// a step that fails is recorded and the session goes on with the next one;
// VT_ONLY (a regex) runs only the steps it matches, besides the login (for
// working on one page)
const ONLY = process.env.VT_ONLY ? new RegExp(process.env.VT_ONLY) : null
async function step(what, fn) {
  if (ONLY && what !== 'login' && !ONLY.test(what)) return
  try {
    await fn()
  } catch (e) {
    check(false, `${what}: ${String(e.message || e).split('\n')[0]}`)
    await snap(page, `failed-${what.replace(/\W+/g, '-')}`).catch(() => {})
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/lib/chromium/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  timeout: 60000,
})
// dates on screen are checked as text: UTC, whatever the machine's zone
const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US', timezoneId: 'UTC' })
const page = await context.newPage()
page.setDefaultTimeout(15000)
page.on('console', m => {
  if (m.type() === 'error') consoleErrors.push(m.text())
})
page.on('pageerror', e => consoleErrors.push(`pageerror: ${e.message}`))
page.on('response', r => {
  if (r.status() >= 400) failed.push(`${r.status()} ${r.request().method()} ${r.url()}`)
})
page.on('requestfailed', r => failed.push(`failed ${r.method()} ${r.url()} ${r.failure()?.errorText}`))

await step('login', async () => {
  await page.goto(URL)
  await page.locator('#username').waitFor()
  await snap(page, 'login')
  await page.fill('#username', process.env.VT_USER)
  await page.fill('#password', process.env.VT_PASS)
  await page.getByRole('button', { name: 'Login' }).click()
  await page.waitForURL(u => !String(u).includes('/login'), { timeout: 15000 })
  check(true, 'login through the login page')
})

await step('torrent list', async () => {
  for (const n of NAMES) await page.getByText(n, { exact: true }).first().waitFor({ timeout: 20000 })
  await page.waitForTimeout(2500)
  await snap(page, 'dashboard')
  const body = await page.locator('body').innerText()
  check(NAMES.every(n => body.includes(n)), `torrent list shows ${NAMES.join(', ')}`)
  check(/\d+(\.\d+)? ?(MiB|MB)/.test(body), 'torrent list shows sizes in MiB')
  check(/Seeding|Stalled|Uploading/i.test(body) && /Downloading/i.test(body), 'torrent list shows seeding and downloading states')
})

const detailName = NAMES[NAMES.length - 1]
for (const tab of ['Overview', 'Info', 'Trackers', 'Peers', 'Content', 'Tags & Categories']) {
  await step(`details ${tab}`, async () => {
    if (!page.url().includes('/torrent/')) {
      await page.getByText(detailName, { exact: true }).first().dblclick()
      await page.waitForURL(/\/torrent\//)
    }
    await page.getByRole('tab', { name: tab }).click()
    await page.waitForTimeout(1500)
    if (tab === 'Info') {
      // every field of torrents/info and properties, grouped in folded panels
      // (an accordion: one panel open at a time, so one screenshot each)
      let i = 0
      for (const b of await page.locator('.v-expansion-panel-title').all()) {
        await b.click()
        await page.waitForTimeout(600)
        await snap(page, `details-info-${++i}`)
      }
    }
    await page.waitForTimeout(1000)
    await snap(page, `details-${tab.toLowerCase().replace(/\W+/g, '-')}`)
    const body = await page.locator('body').innerText()
    if (tab === 'Trackers') check(/127\.0\.0\.1:\d+\/announce/.test(body), 'trackers tab lists the announce URL')
    if (tab === 'Peers') check(body.includes('127.0.0.3'), 'peers tab lists the peer 127.0.0.3')
    if (tab === 'Content') check(body.includes('big.bin'), 'content tab lists big.bin')
  })
}

await step('add magnet', async () => {
  await page.goto(URL)
  await page.getByText(NAMES[0], { exact: true }).first().waitFor()
  await page.locator('button:has(i.mdi-plus)').first().click()
  await page.locator('.v-dialog textarea').first().fill(MAGNET)
  await snap(page, 'add-dialog')
  await page.getByRole('button', { name: 'Add torrents' }).click()
  await page.getByText(MAGNET_NAME, { exact: true }).first().waitFor({ timeout: 20000 })
  check(true, 'magnet added from the add dialog shows in the list')
  await snap(page, 'magnet-added')
})

// a .torrent file through the same dialog (multipart torrents/add with
// VueTorrent's whole option set, defaults)
await step('add file', async () => {
  await page.locator('button:has(i.mdi-plus)').first().click()
  await page.locator('.v-dialog input[type=file]').first().setInputFiles(process.env.VT_FILE)
  await page.waitForTimeout(500)
  await snap(page, 'add-file-dialog')
  await page.getByRole('button', { name: 'Add torrents' }).click()
  const name = process.env.VT_FILE_NAME
  await page.getByText(name, { exact: true }).first().waitFor({ timeout: 20000 })
  check(true, `.torrent file added from the add dialog shows in the list (${name})`)
})

async function stateOfMagnet() {
  return await page.evaluate(async h => {
    const r = await fetch(`api/v2/torrents/info?hashes=${h}`)
    const j = await r.json()
    return j[0] && j[0].state
  }, new globalThis.URL(MAGNET).searchParams.get('xt').split(':').pop())
}

// ctrl+click selects one torrent; the toolbar's stop/start then act on it
await step('select the magnet', async () => {
  await page.getByText(MAGNET_NAME, { exact: true }).first().click({ modifiers: ['Control'] })
  await page.waitForTimeout(500)
})
for (const [icon, want] of [['mdi-pause', /^(stopped|paused)/], ['mdi-play', /^(?!stopped|paused)/]]) {
  await step(`${icon} on the magnet`, async () => {
    await page.locator(`button:has(i.${icon})`).first().click()
    let st = ''
    for (let i = 0; i < 30 && !(st && want.test(st)); i++) {
      await page.waitForTimeout(300)
      st = await stateOfMagnet()
    }
    check(st && want.test(st), `${icon === 'mdi-pause' ? 'stop' : 'start'} from the toolbar -> ${st}`)
    await snap(page, icon === 'mdi-pause' ? 'stopped' : 'started')
  })
}

// the torrent's context menu: each entry is one API call, and the list must
// show its effect (through sync/maindata deltas)
async function apiTorrent(name) {
  return await page.evaluate(async n => {
    const j = await (await fetch('api/v2/torrents/info')).json()
    return j.find(t => t.name === n) || null
  }, name)
}
async function menu(name, ...path) {
  await page.getByText(name, { exact: true }).first().click({ button: 'right' })
  const overlay = page.locator('.v-overlay-container')
  // submenus open on hover
  for (const [i, entry] of path.entries()) {
    await page.waitForTimeout(300)
    const item = overlay.getByText(entry, { exact: true }).last()
    if (i < path.length - 1) await item.hover()
    else await item.click()
  }
}
async function until(fn, what) {
  let v
  for (let i = 0; i < 40; i++) {
    v = await fn()
    if (v) return v
    await page.waitForTimeout(250)
  }
  throw new Error(`timed out: ${what}`)
}
const RENAMED = `${NAMES[0]}.Renamed`
await step('context menu', async () => {
  await page.goto(URL)
  await page.getByText(NAMES[0], { exact: true }).first().waitFor()
  await menu(NAMES[0], 'Advanced', 'Rename Torrent')
  await page.locator('.v-dialog input:not([disabled])').last().fill(RENAMED)
  await page.locator('.v-dialog').getByRole('button', { name: 'Save' }).click()
  await page.getByText(RENAMED, { exact: true }).first().waitFor()
  check((await apiTorrent(RENAMED)) !== null, 'context menu: Rename Torrent renames it (list and API)')

  await menu(RENAMED, 'Set category', 'tv')
  await until(async () => (await apiTorrent(RENAMED)).category === 'tv', 'category tv')
  check(true, 'context menu: Set category -> tv')

  await menu(RENAMED, 'Set tags', 'demo')
  await until(async () => (await apiTorrent(RENAMED)).tags === 'vt', 'tag demo removed')
  check(true, 'context menu: Set tags toggles demo off')

  await page.keyboard.press('Escape')
  await menu(RENAMED, 'Set limits', 'Set upload limit')
  await page.locator('.v-dialog input').last().fill('50')
  await snap(page, 'upload-limit-dialog')
  await page.locator('.v-dialog').getByRole('button', { name: 'Save' }).click()
  const t = await until(async () => { const x = await apiTorrent(RENAMED); return x.up_limit > 0 && x }, 'up_limit set')
  // VueTorrent's speed units are decimal kB/s
  check(t.up_limit === 50 * 1000, `context menu: Set upload limit 50 kB/s -> up_limit ${t.up_limit}`)
  await page.waitForTimeout(1500)
  await snap(page, 'after-context-menu')
})

// the other pages of the toolbar: each loads its own endpoints
for (const [icon, name] of [['mdi-search-web', 'search'], ['mdi-rss', 'rss'], ['mdi-file-plus', 'creator'],
  ['mdi-cookie', 'cookies'], ['mdi-file-document-multiple', 'logs']]) {
  await step(`page ${name}`, async () => {
    await page.goto(URL)
    await page.getByText(NAMES[1], { exact: true }).first().waitFor()
    await page.locator(`button:has(i.${icon})`).first().click()
    await page.waitForTimeout(2500)
    await snap(page, `page-${name}`)
  })
}

// RSS: the feed added through the page's own dialog, its articles (titles,
// dates), one marked read, the feed refreshed after the server published a
// new article; then a download rule made in the rule dialog (the py half
// checks over the API that the rule's torrents were added in its category)
const RSS = JSON.parse(process.env.VT_RSS || '{}')
const LOOP = process.env.VT_LOOP
const FEED_NAME = 'Loop'
async function openRss() {
  await page.goto(URL)
  await page.getByText(NAMES[1], { exact: true }).first().waitFor()
  await page.locator('button:has(i.mdi-rss)').first().click()
  await page.waitForURL(/\/rss/)
  // the page reopens on the view it was left on
  if (page.url().includes('/rules')) {
    await page.locator('button:has(i.mdi-auto-download)').first().click()
    await page.waitForURL(u => !String(u).includes('/rules'))
  }
}
const article = title => page.locator('.v-list-item', { hasText: title }).filter({ has: page.locator('button:has(i.mdi-check)') })
await step('rss add feed', async () => {
  await openRss()
  await page.getByRole('button', { name: 'Create RSS Feed' }).click()
  const dlg = page.locator('.v-dialog').last()
  await dlg.getByLabel('Name').fill(FEED_NAME)
  await dlg.getByLabel('URL').fill(`${LOOP}/feed`)
  await snap(page, 'rss-feed-dialog')
  await dlg.getByRole('button', { name: 'Save' }).click()
  for (const t of RSS.items) await page.getByText(t, { exact: true }).first().waitFor({ timeout: 30000 })
  await page.waitForTimeout(1000)
  await snap(page, 'rss-articles')
  const body = await page.locator('body').innerText()
  check(RSS.items.every(t => body.includes(t)), `rss: the feed's articles are listed (${RSS.items.join(', ')})`)
  check(body.includes(`${RSS.items.length} | ${FEED_NAME}`), `rss: the feed shows ${RSS.items.length} unread`)
  // en-US toLocaleString of the article dates: 11/30/2026, 10:00:00 AM (in UTC)
  const dates = body.match(/\b\d{1,2}\/\d{1,2}\/\d{4}, \d{1,2}:\d{2}:\d{2} [AP]M\b/g) || []
  check(dates.length >= RSS.items.length, `rss: every article shows a date (${dates.join('; ')})`)
  check(body.includes('11/30/2026, 10:00:00 AM') && body.includes('12/1/2026, 8:30:00 AM'),
    'rss: RFC 822 dates shown as the feed gave them (GMT and +0100)')
})

await step('rss open article', async () => {
  await page.getByText(RSS.items[0], { exact: true }).first().click()
  const dlg = page.locator('.v-dialog').last()
  await dlg.getByText('Episode 1').waitFor()
  await snap(page, 'rss-article-description')
  check((await dlg.locator('.description-container b').innerText()) === '1', 'rss: the article description is shown as HTML')
  await dlg.locator('button:has(i.mdi-close)').click()
  await page.waitForTimeout(500)
})

await step('rss mark read', async () => {
  await article(RSS.read).locator('button:has(i.mdi-check)').click()
  await until(async () => await page.evaluate(async t => {
    const j = await (await fetch('api/v2/rss/items?withData=true')).json()
    return Object.values(j).some(f => (f.articles || []).some(a => a.title === t && a.isRead))
  }, RSS.read), 'article read in rss/items')
  await until(async () => (await article(RSS.read).getByText('NEW', { exact: true }).count()) === 0, 'NEW chip gone')
  await page.waitForTimeout(500)
  await snap(page, 'rss-marked-read')
  const body = await page.locator('body').innerText()
  check(body.includes(`${RSS.items.length - 1} | ${FEED_NAME}`), `rss: ${RSS.read} marked read (NEW gone, unread count ${RSS.items.length - 1})`)
})

await step('rss refresh', async () => {
  await fetch(`${LOOP}/publish`, { method: 'POST' })
  const before = (await (await fetch(`${LOOP}/hits`)).json())['/feed'] || 0
  const row = page.locator('.v-list-item', { hasText: FEED_NAME }).filter({ has: page.locator('button:has(i.mdi-pencil)') })
  await row.locator('button:has(i.mdi-sync)').click()
  await page.getByText(RSS.late, { exact: true }).first().waitFor({ timeout: 30000 })
  const after = (await (await fetch(`${LOOP}/hits`)).json())['/feed'] || 0
  await page.waitForTimeout(1000)
  await snap(page, 'rss-refreshed')
  check(after > before, `rss: refresh fetched the feed again (${before} -> ${after}) and shows ${RSS.late}`)
})

// an article's download button queues its torrent URL for the add dialog
// (torrents/add with urls=, fetched by torrentd from the loopback server)
await step('rss download article', async () => {
  await article(RSS.read).locator('button:has(i.mdi-download)').click()
  await page.locator('.v-bottom-navigation').click()
  const dlg = page.locator('.v-dialog').last()
  await dlg.locator('textarea').first().waitFor()
  check((await dlg.locator('textarea').first().inputValue()).includes(`${LOOP}/t/`), 'rss: the article download puts its torrent URL in the add dialog')
  await snap(page, 'rss-article-add-dialog')
  const added = page.waitForResponse(r => r.url().includes('/api/v2/torrents/add'))
  await dlg.getByRole('button', { name: 'Add torrents' }).click()
  check((await added).status() === 200, 'rss: torrents/add with the article URL answered 200')
  await page.goto(URL)
  await page.getByText(RSS.read_name, { exact: true }).first().waitFor({ timeout: 30000 })
  check(true, `rss: the article's torrent is in the list (${RSS.read_name})`)
})

const apiRule = async () => await page.evaluate(async n => (await (await fetch('api/v2/rss/rules')).json())[n], RSS.rule)
const ruleCard = () => page.locator('.v-sheet', { hasText: RSS.rule })
if (RSS.rules) {
  await step('rss rule', async () => {
    await openRss()
    await page.locator('button:has(i.mdi-auto-download)').first().click()
    await page.waitForURL(/\/rss\/rules/)
    await page.getByRole('button', { name: 'Create RSS Rule' }).click()
    const dlg = page.locator('.v-dialog').last()
    await dlg.getByLabel('Name').first().fill(RSS.rule)
    await dlg.getByLabel('Must Contain').fill(RSS.rule)
    await dlg.getByLabel(FEED_NAME, { exact: true }).check()
    // the torrent parameters are a dialog of their own
    await dlg.getByRole('button', { name: 'Torrent parameters' }).click()
    const params = page.locator('.v-dialog').last()
    await params.getByLabel('Tags').first().click()
    await page.locator('.v-overlay-container .v-list-item').getByText(RSS.tag, { exact: true }).click()
    await params.getByLabel('Category').first().click()
    await page.locator('.v-overlay-container .v-list-item').getByText(RSS.category, { exact: true }).click()
    await page.waitForTimeout(300)
    await snap(page, 'rss-rule-params')
    await params.getByRole('button', { name: 'Close' }).last().click()
    await page.waitForTimeout(500)
    await dlg.getByRole('button', { name: 'Save' }).click()
    const want = [RSS.items[0], RSS.items[1], RSS.late]
    for (const t of want) await dlg.getByText(t, { exact: true }).first().waitFor()
    await page.waitForTimeout(500)
    await snap(page, 'rss-rule-matching')
    const text = await dlg.innerText()
    check(text.includes(FEED_NAME) && !text.includes(RSS.read), `rss rule: matching articles under ${FEED_NAME}: ${want.join(', ')}, not ${RSS.read}`)
    await dlg.getByRole('button', { name: 'Close' }).last().click()
    await page.getByText(RSS.rule, { exact: true }).first().waitFor()
    await snap(page, 'rss-rules')
    check(true, `rss rule: ${RSS.rule} listed in the rules view`)
  })

  // once the rule has taken its articles, the dialog shows its last match
  // (qBittorrent's RFC 2822 date, read by the browser's Date)
  await step('rss rule last match', async () => {
    const r = await until(async () => { const x = await apiRule(); return x && x.lastMatch && x }, 'lastMatch set')
    await page.reload()
    await ruleCard().locator('button:has(i.mdi-pencil)').click()
    const dlg = page.locator('.v-dialog').last()
    await dlg.getByText(RSS.items[0], { exact: true }).waitFor()
    const shown = await dlg.getByLabel('Last match').inputValue()
    await snap(page, 'rss-rule-edit')
    const days = Math.floor((Date.now() - new Date(r.lastMatch).getTime()) / 86400000)
    check(new RegExp(`^${days} days? ago$`).test(shown) || (days === 0 && shown === 'today'),
      `rss rule: last match '${r.lastMatch}' shown as '${shown}'`)
    await dlg.getByRole('button', { name: 'Close' }).last().click()
  })

  // the card's switch sends the whole rule back (as rss/rules gave it)
  await step('rss rule toggle', async () => {
    const before = await apiRule()
    for (const want of [false, true]) {
      await ruleCard().locator(`button:has(i.${want ? 'mdi-cancel' : 'mdi-check'})`).click()
      await until(async () => (await apiRule()).enabled === want, `rule enabled=${want}`)
      await ruleCard().locator(`button:has(i.${want ? 'mdi-check' : 'mdi-cancel'})`).waitFor()
    }
    const r = await apiRule()
    check(r.enabled && r.mustContain === RSS.rule && r.torrentParams.category === RSS.category &&
      JSON.stringify(r.torrentParams.tags) === JSON.stringify([RSS.tag]) &&
      JSON.stringify(r.affectedFeeds) === JSON.stringify([`${LOOP}/feed`]),
      'rss rule: disabled and enabled again from its card, the rest of the rule kept')
    check(r.lastMatch === before.lastMatch, `rss rule: lastMatch kept through the round trip (${before.lastMatch} -> ${r.lastMatch})`)
  })
}

// the feed's edit dialog: a new URL (rss/setFeedURL; a rule's affectedFeeds
// follow it) and a new name (rss/moveItem); later the feed removed
// (rss/removeItem)
const FEED_NEW = `${FEED_NAME} Renamed`
const feedRow = name => page.locator('.v-list-item', { hasText: name }).filter({ has: page.locator('button:has(i.mdi-pencil)') })
await step('rss edit feed', async () => {
  await openRss()
  const URL2 = `${LOOP}/feed?v=2`
  await feedRow(FEED_NAME).locator('button:has(i.mdi-pencil)').click()
  const dlg = page.locator('.v-dialog').last()
  await dlg.getByLabel('Name').fill(FEED_NEW)
  await dlg.getByLabel('URL').fill(URL2)
  await snap(page, 'rss-feed-edit')
  await dlg.getByRole('button', { name: 'Save' }).click()
  await feedRow(FEED_NEW).waitFor()
  const items = await page.evaluate(async () => await (await fetch('api/v2/rss/items')).json())
  check(Object.keys(items).join() === FEED_NEW && items[FEED_NEW].url === URL2,
    `rss: feed renamed to '${FEED_NEW}', URL ${URL2} (${JSON.stringify(items)})`)
  await page.waitForTimeout(500)
  await snap(page, 'rss-feed-renamed')
  if (RSS.rules) {
    const r = await page.evaluate(async () => await (await fetch('api/v2/rss/rules')).json())
    check(JSON.stringify(r[RSS.rule]?.affectedFeeds) === JSON.stringify([URL2]),
      `rss rule: affectedFeeds follow the feed's new URL (${JSON.stringify(r[RSS.rule]?.affectedFeeds)})`)
  }
})

if (RSS.rules) {
  await step('rss rules view', async () => {
    await page.locator('button:has(i.mdi-auto-download)').first().click()
    await page.waitForURL(/\/rss\/rules/)
  })
  // renamed in its dialog (rss/renameRule, then setRule), then removed
  await step('rss rule rename and delete', async () => {
    const NEW = `${RSS.rule}.Renamed`
    await ruleCard().locator('button:has(i.mdi-pencil)').click()
    const dlg = page.locator('.v-dialog').last()
    await dlg.getByLabel('Name').first().fill(NEW)
    await dlg.getByRole('button', { name: 'Save' }).click()
    await until(async () => await page.evaluate(async n => Object.keys(await (await fetch('api/v2/rss/rules')).json()).join() === n, NEW),
      'the rule renamed in rss/rules')
    await dlg.getByRole('button', { name: 'Close' }).last().click()
    const card = page.locator('.v-sheet', { hasText: NEW })
    await card.waitFor()
    check(true, `rss rule: renamed to ${NEW} from its dialog (rss/rules has only the new name)`)
    await card.locator('button:has(i.mdi-delete)').click()
    await page.locator('.v-dialog').last().getByRole('button', { name: 'Yes' }).click()
    await page.getByRole('button', { name: 'Create RSS Rule' }).waitFor()
    const left = await page.evaluate(async () => await (await fetch('api/v2/rss/rules')).json())
    check(Object.keys(left).length === 0, 'rss rule: removed from its card (rss/rules is {})')
    await snap(page, 'rss-rule-removed')
  })
}

await step('rss delete feed', async () => {
  await openRss()
  await feedRow(FEED_NEW).locator('button:has(i.mdi-delete)').click()
  await page.locator('.v-dialog').last().getByRole('button', { name: 'Yes' }).click()
  await page.getByText('No RSS feeds registered').waitFor()
  check(true, 'rss: feed removed (the page shows no feeds)')
})

// a feed whose URL answers 404: the error icon, no articles, no spinner left
await step('rss broken feed', async () => {
  await page.getByRole('button', { name: 'Create RSS Feed' }).click()
  const dlg = page.locator('.v-dialog').last()
  await dlg.getByLabel('Name').fill('Broken')
  await dlg.getByLabel('URL').fill(`${LOOP}/no-such-feed`)
  await dlg.getByRole('button', { name: 'Save' }).click()
  await feedRow('Broken').locator('i.mdi-alert-circle-outline').waitFor({ timeout: 30000 })
  const f = (await page.evaluate(async () => await (await fetch('api/v2/rss/items?withData=true')).json())).Broken
  await snap(page, 'rss-broken-feed')
  check(f.hasError === true && f.isLoading === false && f.articles.length === 0,
    'rss: a feed answering 404 shows the error icon (hasError, not loading, no articles)')
  await feedRow('Broken').locator('button:has(i.mdi-delete)').click()
  await page.locator('.v-dialog').last().getByRole('button', { name: 'Yes' }).click()
  await page.getByText('No RSS feeds registered').waitFor()
})

// search: the plugin installed from the plugin manager (an http URL on the
// loopback server), a search run, its results, one downloaded through the
// plugin and seen in the torrent list
const SEARCH = JSON.parse(process.env.VT_SEARCH || '{}')
await step('search install plugin', async () => {
  await page.goto(URL)
  await page.getByText(NAMES[1], { exact: true }).first().waitFor()
  await page.locator('button:has(i.mdi-search-web)').first().click()
  await page.waitForURL(/\/search/)
  await page.locator('button:has(i.mdi-toy-brick)').first().click()
  await page.getByRole('button', { name: 'Install new plugin' }).click()
  await page.locator('.v-dialog').last().getByLabel('Plugin URL').fill(SEARCH.plugin)
  await page.locator('.v-dialog').last().getByRole('button', { name: 'OK' }).click()
  await page.locator('.v-dialog').getByText('VT Loop', { exact: true }).first().waitFor({ timeout: 20000 })
  await page.waitForTimeout(500)
  await snap(page, 'search-plugins')
  const text = await page.locator('.v-dialog').last().innerText()
  // '#VERSION: 1.02' is version 1.2 to qBittorrent (numeric components)
  check(/\b1\.2\b/.test(text) && text.includes(LOOP), 'search: the plugin manager lists VT Loop 1.2 with its URL')
  await page.locator('.v-dialog').last().getByRole('button', { name: 'Close' }).click()
})

await step('search run', async () => {
  // a combobox (the query history): its input and its list share the label
  const q = page.locator('.v-combobox', { hasText: 'Search query' }).locator('input').first()
  await q.fill(SEARCH.pattern)
  await q.press('Enter')
  for (const i of [1, 2, 3]) await page.getByText(`VT.Search.${i} ${SEARCH.pattern}`, { exact: true }).waitFor({ timeout: 30000 })
  await page.getByRole('button', { name: 'Search', exact: true }).waitFor({ timeout: 30000 })   // stopped again
  await page.waitForTimeout(500)
  await snap(page, 'search-results')
  const row = async i => (await page.locator('tr', { hasText: `VT.Search.${i} ${SEARCH.pattern}` }).innerText()).split(/\t|\n/).map(x => x.trim()).filter(Boolean)
  const r1 = await row(1)
  const r3 = await row(3)
  console.log(`      row 1: ${JSON.stringify(r1)}`)
  check(/^1\.5\d* GiB$|^1\.6\d* GB$/.test(r1[1]) && r1[2] === '120' && r1[3] === '9',
    `search: result 1 shows size ${r1[1]}, seeds ${r1[2]}, leechers ${r1[3]}`)
  check(r3[2] === '0' && r1[4] === 'vtloop', 'search: seeds 0 shown as 0, engine name vtloop')
  check(r1[5] === '2025-11-25 16:00:00', `search: publication date ${r1[5]} (pub_date 1764086400)`)
})

// a search that keeps running (the plugin sleeps after one result): the
// tab shows Stop, the result arrives, Stop ends it (search/stop)
await step('search stop', async () => {
  const apiJobs = async () => await page.evaluate(async () => await (await fetch('api/v2/search/status')).json())
  await page.locator('button:has(i.mdi-plus-circle-outline)').click()
  const q = page.locator('.v-combobox', { hasText: 'Search query' }).locator('input').first()
  await q.fill('slow')
  await q.press('Enter')
  await page.getByText('VT.Search.1 slow', { exact: true }).waitFor({ timeout: 30000 })
  const running = (await apiJobs()).find(j => j.pattern === 'slow')
  await snap(page, 'search-running')
  check(running && running.status === 'Running', `search: 'slow' is Running with its first result (${JSON.stringify(running)})`)
  await page.getByRole('button', { name: 'Stop', exact: true }).click()
  await until(async () => (await apiJobs()).find(j => j.pattern === 'slow').status === 'Stopped', 'slow search stopped')
  await page.getByRole('button', { name: 'Search', exact: true }).waitFor()
  check(true, 'search: Stop ends the running search (search/status: Stopped)')
  // back to the first tab for the download
  await page.getByRole('tab', { name: SEARCH.pattern }).click()
  await page.getByText(`VT.Search.1 ${SEARCH.pattern}`, { exact: true }).waitFor()
})

await step('search download', async () => {
  await page.locator('tr', { hasText: SEARCH.download }).locator('button:has(i.mdi-download)').click()
  await page.locator('tr', { hasText: SEARCH.download }).locator('button:has(i.mdi-check)').waitFor()
  await snap(page, 'search-downloaded')
  await page.goto(URL)
  await page.getByText(SEARCH.download_name, { exact: true }).first().waitFor({ timeout: 30000 })
  check(true, `search: the downloaded result is in the torrent list (${SEARCH.download_name})`)
  await snap(page, 'search-result-in-list')
})

// the plugin manager's update button (search/updatePlugins), enable box
// (search/enablePlugin) and delete icon (search/uninstallPlugin)
await step('search plugin update, disable and uninstall', async () => {
  const apiPlugins = async () => await page.evaluate(async () => await (await fetch('api/v2/search/plugins')).json())
  await page.locator('button:has(i.mdi-search-web)').first().click()
  await page.waitForURL(/\/search/)
  await page.locator('button:has(i.mdi-toy-brick)').first().click()
  const dlg = page.locator('.v-dialog').last()
  const row = dlg.locator('tr', { hasText: 'VT Loop' })
  // "Update plugins": search/updatePlugins reads the loopback update server's
  // versions.txt (vtloop: 1.03) and installs the newer file
  await dlg.getByRole('button', { name: 'Update plugins' }).click()
  await until(async () => (await apiPlugins())[0].version === '1.3', 'plugin updated to 1.3')
  await row.getByText('1.3', { exact: true }).waitFor()
  await snap(page, 'search-plugin-updated')
  check(true, 'search: Update plugins brings VT Loop to 1.3 (listed in the plugin manager)')
  for (const want of [false, true]) {
    await row.locator('input[type=checkbox]').click()
    await until(async () => (await apiPlugins())[0].enabled === want, `plugin enabled=${want}`)
  }
  check(true, 'search: plugin disabled and enabled again from the plugin manager')
  await row.locator('i.mdi-delete').click()
  await until(async () => (await apiPlugins()).length === 0, 'plugin uninstalled')
  await dlg.getByText('VT Loop', { exact: true }).waitFor({ state: 'detached' })
  await snap(page, 'search-plugin-uninstalled')
  check(true, 'search: plugin uninstalled from the plugin manager (search/plugins is [])')
  await dlg.getByRole('button', { name: 'Close' }).click()
})

await step('settings', async () => {
  await page.goto(URL)
  await page.getByText(NAMES[1], { exact: true }).first().waitFor()
  await page.locator('button:has(i.mdi-cog)').first().click()
  await page.getByRole('tab', { name: 'Connection', exact: true }).click()
  await page.waitForTimeout(2000)
  await snap(page, 'settings-connection')
  const field = page.getByLabel('Global maximum number of connections', { exact: false }).first()
  await field.fill('345')
  // the RSS tab shows what the session set up, and saves with the rest
  await page.getByRole('tab', { name: 'RSS', exact: true }).click()
  await page.waitForTimeout(1000)
  await snap(page, 'settings-rss')
  const on = async l => await page.getByLabel(l, { exact: true }).isChecked()
  check(await on('Enable fetching RSS feeds') && await on('Enable RSS rules processing'),
    'settings RSS: fetching and rules processing shown on')
  const maxArts = page.getByLabel('Maximum number of articles per feed').first()
  check((await maxArts.inputValue()) === '50', `settings RSS: maximum articles per feed ${await maxArts.inputValue()}`)
  await maxArts.fill('77')
  await page.locator('button:has(i.mdi-content-save)').first().click()
  await page.waitForTimeout(2000)
  await snap(page, 'settings-saved')
  check(true, 'settings: max connections set to 345, RSS articles per feed to 77, and saved')
})

await step('delete from the context menu', async () => {
  await page.goto(URL)
  await page.getByText(MAGNET_NAME, { exact: true }).first().waitFor()
  await page.getByText(MAGNET_NAME, { exact: true }).first().click({ button: 'right' })
  await page.locator('.v-overlay-container button:has(i.mdi-delete-forever)').first().click()
  await page.locator('.v-dialog').getByRole('button', { name: 'Delete' }).click()
  await until(async () => (await page.getByText(MAGNET_NAME, { exact: true }).count()) === 0, 'magnet gone from the list')
  check((await stateOfMagnet()) === undefined, 'delete: the magnet is gone from the list and from the API')
  await snap(page, 'deleted')
})

await browser.close()
// answers qBittorrent gives too: app/version before login is 403, and
// VueTorrent probes for its optional backend (vuetorrent-backend), which a
// plain qBittorrent does not have either
// requests the browser itself cancelled when a step navigated away (no
// answer was refused) are not failures either
const expected = f => /^403 GET \S+\/api\/v2\/app\/version$/.test(f) || /^404 GET \S+\/backend\//.test(f) ||
  /^failed GET \S+ net::ERR_ABORTED$/.test(f)
// the rule endpoints when this build has not got them yet: reported, not failed
const knownGap = f => !RSS.rules && /^404 \w+ \S+\/api\/v2\/rss\/(rules|setRule|renameRule|removeRule|matchingArticles)\b/.test(f)
const unexpected = failed.filter(f => !expected(f) && !knownGap(f))
// the browser logs each of those answers as a console error as well
const expectedConsole = failed.length - unexpected.length
const gapErrors = failed.filter(knownGap).length
const resourceErrors = consoleErrors.filter(e => e.startsWith('Failed to load resource'))
// VueTorrent logs a missing rss/search endpoint once more, with its stack
const otherConsole = consoleErrors.filter(e => !e.startsWith('Failed to load resource') &&
  !(gapErrors && /status code 404[\s\S]*(SearchEngine|Rss)/.test(e)))
console.log(`\n== console errors (${consoleErrors.length}; ${expectedConsole} of them for the answers listed below)`)
for (const e of consoleErrors) console.log(`  ${e}`)
console.log(`== HTTP answers >= 400 and failed requests (${failed.length}, ${unexpected.length} unexpected)`)
for (const f of failed) console.log(`  ${expected(f) ? 'expected  ' : knownGap(f) ? 'KNOWN GAP ' : 'UNEXPECTED'} ${f}`)
fs.writeFileSync(path.join(OUT, 'vt-session.json'), JSON.stringify({ results, consoleErrors, failed }, null, 2))
check(otherConsole.length === 0 && resourceErrors.length <= expectedConsole, 'no console errors beyond the expected answers')
check(unexpected.length === 0, 'no unexpected HTTP answer >= 400')
process.exit(results.every(([ok]) => ok) ? 0 : 1)
