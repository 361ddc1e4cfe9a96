// Browser half of scripts/try-vuetorrent.sh: drives VueTorrent in headless
// Debian chromium (playwright-core from $PW_DIR) against torrentd at $VT_URL.
// Logs in, checks the torrent list, opens a torrent's trackers/peers/content
// tabs, adds a magnet, stops and starts it, saves a preference; records
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

// a step that fails is recorded and the session goes on with the next one
async function step(what, fn) {
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
const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US' })
const page = await context.newPage()
page.setDefaultTimeout(15000)
page.on('console', m => {
  if (m.type() === 'error') consoleErrors.push(m.text())
})
page.on('pageerror', e => consoleErrors.push(`pageerror: ${e.message}`))
page.on('response', r => {
  if (r.status() >= 400) failed.push(`${r.status()} ${r.request().method()} ${r.url()}`)
})
page.on('requestfailed', r => failed.push(`failed ${r.request ? '' : ''}${r.method()} ${r.url()} ${r.failure()?.errorText}`))

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

await step('settings', async () => {
  await page.goto(URL)
  await page.getByText(NAMES[1], { exact: true }).first().waitFor()
  await page.locator('button:has(i.mdi-cog)').first().click()
  await page.getByRole('tab', { name: 'Connection', exact: true }).click()
  await page.waitForTimeout(2000)
  await snap(page, 'settings-connection')
  const field = page.getByLabel('Global maximum number of connections', { exact: false }).first()
  await field.fill('345')
  await page.locator('button:has(i.mdi-content-save)').first().click()
  await page.waitForTimeout(2000)
  await snap(page, 'settings-saved')
  check(true, 'settings: max connections set to 345 and saved')
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
const expected = f => /^403 GET \S+\/api\/v2\/app\/version$/.test(f) || /^404 GET \S+\/backend\//.test(f)
// endpoint groups docs/api-coverage.md lists as missing: reported, not failed
const knownGap = f => /^404 \w+ \S+\/api\/v2\/(rss|search)\//.test(f)
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
