// The live page of a running `rats serve` in a real browser (Debian's chromium through
// playwright-core), driven together with the test that runs it: the script and the test take
// turns over stdin and stdout, one line each.
//
//   1. Signs in on the way to /live?title=quantum, saves that filter as the search "Quantum" by
//      the page's form, opens /live unfiltered and waits until it is live; prints
//      {"step": "watching", …}.
//      The overview is open in a second tab.
//   2. Reads a line once the test has consumed a batch: waits for its last posting at the top of
//      the feed (how soon is scripts/bench-live's figure, not checked here), for the saved
//      search's alert, and reads how the virtualised list holds the batch (rows in the document
//      against postings held, a row far down after scrolling there); waits for the overview tab
//      to read itself again at the new lake version and to show the alert; prints
//      {"step": "seen", …}.
//   3. Reads a line once the test has stopped the server: waits for the page to say it is
//      reconnecting; prints {"step": "disconnected", …}.
//   4. Reads a line once the test has consumed another batch and started the server again: waits
//      for the page to be live again with that batch's last posting at the top; prints the
//      report: each step's findings, the postings held (to count gaps and repeats), every
//      console error, script error and failed request outside the restart, every origin.
//
//   node tests/node/dashboard-live.mjs BASE_URL USER PASSWORD
import { createInterface } from 'node:readline';

import { args, dashboardPage, iconCancelled, launch, pageTools, watch } from './browser.mjs';

const { base, user, password } = args('dashboard-live.mjs BASE_URL USER PASSWORD', ['base', 'user', 'password']);
const reader = createInterface({ input: process.stdin });
const lines = reader[Symbol.asyncIterator]();
const turn = async () => (await lines.next()).value;
const say = (step, found) => console.log(JSON.stringify({ step, ...found }));

const browser = await launch();
try {
  const { page, problems, origins } = await dashboardPage(browser);
  const { phoneOverflow, tooWide } = pageTools(page);
  const state = () => page.$eval('#live-state', (p) => ({ state: p.dataset.state, text: p.textContent.trim() }));
  const waitState = (name, timeout) => page.waitForSelector(`#live-state[data-state="${name}"]`, { timeout });
  const topTitle = () => page.$eval('#feed .feed-row[aria-posinset="1"] a', (a) => a.textContent).catch(() => null);
  const held = () => page.$eval('#feed .feed-row', (row) => Number(row.getAttribute('aria-setsize'))).catch(() => 0);

  // 1. A saved search from the page's filters, then the whole feed.
  await page.goto(`${base}/live?title=quantum`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/\/live\?title=quantum$/), page.click('button[type=submit]')]);
  await waitState('live', 10000);
  await page.fill('#save-search input[name=name]', 'Quantum');
  await page.click('#save-search button[type=submit]');
  await page.waitForSelector('#searches li:has-text("Quantum")', { timeout: 10000 });
  const savedHelp = (await page.textContent('#alerts-help')).trim();
  const overview = await page.context().newPage();
  const overviewSeen = watch(overview, iconCancelled);
  await overview.goto(`${base}/`);
  const overviewVersion = () => overview.$eval('#main', (main) => Number(main.dataset.lakeVersion));
  const overviewPostings = () => overview.$eval('#postings strong', (s) => s.textContent.trim());
  const overviewBefore = { version: await overviewVersion(), postings: await overviewPostings() };
  await page.bringToFront();
  await page.goto(`${base}/live`);
  await waitState('live', 10000);
  say('watching', {
    savedHelp,
    state: await state(),
    heldBefore: await held(),
    saveFormHidden: !(await page.isVisible('#save-search')),
    phoneOverflow: await phoneOverflow(),
    tooWide,
  });

  // 2. A batch consumed while watching.
  const batchTop = await turn();
  await page.waitForFunction((title) => document.querySelector('#feed .feed-row[aria-posinset="1"] a')?.textContent === title, batchTop, { timeout: 30000 });
  await page.waitForSelector('#alerts li', { timeout: 10000 });
  const alerts = await page.$$eval('#alerts li', (items) => items.map((li) => li.textContent.trim()));
  const rowsInDocument = await page.$$eval('#feed .feed-row', (rows) => rows.length);
  const heldAfterBatch = await held();
  const farDown = await page.$eval('#feed', (list) => {
    const row = list.querySelector('.feed-row');
    list.scrollTop = row.getBoundingClientRect().height * 300;
    return list.scrollTop;
  });
  await page.waitForSelector('#feed .feed-row[aria-posinset="301"]', { timeout: 5000 });
  const rowsWhenScrolled = await page.$$eval('#feed .feed-row', (rows) => rows.length);
  await page.$eval('#feed', (list) => {
    list.scrollTop = 0;
  });
  await overview.waitForFunction((before) => Number(document.getElementById('main').dataset.lakeVersion) > before, overviewBefore.version, { timeout: 30000 });
  await overview.waitForSelector('#toasts .toast:has-text("Quantum Pipeline Engineer")', { timeout: 30000 });
  const overviewAfter = {
    version: await overviewVersion(),
    postings: await overviewPostings(),
    toasts: await overview.$$eval('#toasts .toast', (items) => items.map((t) => t.textContent.trim())),
    chartRedrawn: (await overview.$('#weekly-chart canvas')) !== null,
  };
  await overview.close();
  say('seen', { alerts, rowsInDocument, heldAfterBatch, farDown, rowsWhenScrolled, top: await topTitle(), overviewBefore, overviewAfter });

  // 3. The server stopped.
  const problemsBeforeRestart = problems.length;
  await turn();
  await waitState('reconnecting', 30000);
  say('disconnected', { state: await state() });

  // 4. Another batch consumed while the server was down, and the server started again.
  const secondTop = await turn();
  await page.waitForFunction((title) => document.querySelector('#feed .feed-row[aria-posinset="1"] a')?.textContent === title, secondTop, { timeout: 90000 });
  await waitState('live', 10000);
  const restartNoise = (problem) => /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING|\/v1\/stream|\/v1\/me|Failed to load resource/.test(problem);
  const report = {
    stateAfterRestart: await state(),
    heldAfterRestart: await held(),
    alertsAfterRestart: await page.$$eval('#alerts li', (items) => items.map((li) => li.textContent.trim())),
    topAfterRestart: await topTitle(),
    problems: [...problems.filter((p, i) => i < problemsBeforeRestart || !restartNoise(p)), ...overviewSeen.problems],
    origins: [...new Set([...origins, ...overviewSeen.origins])],
  };
  say('report', report);
} finally {
  reader.close();
  await browser.close();
}
