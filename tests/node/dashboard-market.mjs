// The trends and companies pages of a running `rats serve` in a real browser (Debian's chromium
// through playwright-core), used as a person would: signs in on the way to the trends, switches
// the split to seniority and the period to weeks by the page's links, filters to remote work by
// the form (the split and period kept), reads jobs per hour during ingest; then the companies,
// sorted by reposts from the column head, and the first company's page. Prints what it saw as
// one JSON object on stdout, with every console error, script error and failed request, and
// every origin reached. With SCREENSHOTS, saves each page there, light and dark.
//
//   node tests/node/dashboard-market.mjs BASE_URL USER PASSWORD [SCREENSHOTS]
import { args, dashboardPage, launch, pageTools } from './browser.mjs';

const { base, user, password, screenshots } = args(
  'dashboard-market.mjs BASE_URL USER PASSWORD [SCREENSHOTS]',
  ['base', 'user', 'password'],
  ['screenshots'],
);

const browser = await launch();
try {
  const { page, problems, origins } = await dashboardPage(browser);
  const { address, text, cells, shots, phoneOverflow, tooWide } = pageTools(page, screenshots);
  // A table as its head's texts and its body's rows.
  const table = async (id) => ({
    head: (await cells(`#${id} thead tr`))[0] ?? [],
    rows: await cells(`#${id} tbody tr`),
  });

  await page.goto(`${base}/trends`);
  const signInAddress = address();
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/\/trends$/), page.click('button[type=submit]')]);
  await page.waitForSelector('#trends-chart canvas', { timeout: 10000 });
  const trends = {
    address: address(),
    current: await page.$$eval('.views a[aria-current="true"]', (links) => links.map((a) => a.textContent.trim())),
    summary: await text('#summary'),
    groups: await table('trend-groups'),
    legend: await page.$$eval('#trends-chart .u-legend .u-series', (series) => series.length),
    phoneOverflow: await phoneOverflow(),
  };
  await shots('trends');

  await Promise.all([page.waitForURL(/split=seniority/), page.click('.views a:text("Seniority")')]);
  await Promise.all([page.waitForURL(/by=week/), page.click('.views a:text("Week")')]);
  const weekly = {
    address: address(),
    groups: await table('trend-groups'),
    periods: await table('trend-periods'),
    ingestSummary: await text('#ingest-summary'),
    ingestHours: await table('ingest-hours'),
    ingestChart: (await page.$('#ingest-chart canvas')) !== null,
  };
  const filtersOpen = await page.$eval('.filterbox', (box) => box.open);
  await page.click('.filterbox summary');
  await page.selectOption('select[name=remote]', 'remote');
  await Promise.all([page.waitForURL(/remote=remote/), page.click('form.filters button[type=submit]')]);
  const remote = { address: address(), summary: await text('#summary'), filtersOpen };

  await page.goto(`${base}/companies`);
  const companies = {
    summary: await text('#summary'),
    rows: await table('companies'),
    keys: await page.$$eval('#companies tbody th a', (links) => links.map((a) => a.getAttribute('href'))),
    longestOpen: await table('longest-open'),
    phoneOverflow: await phoneOverflow(),
  };
  await shots('companies');
  await Promise.all([page.waitForURL(/sort=reposts/), page.click('#companies thead a:text("Reposts")')]);
  const byReposts = {
    address: address(),
    keys: await page.$$eval('#companies tbody th a', (links) => links.map((a) => a.getAttribute('href'))),
    sorted: await page.$eval('#companies thead th[aria-sort]', (th) => th.textContent.trim()),
  };
  await Promise.all([page.waitForURL(/\/companies\/[^?]+$/), page.click('#companies tbody th a')]);
  await page.waitForSelector('#monthly-chart canvas', { timeout: 10000 }).catch(() => {});
  const company = {
    address: address(),
    name: await text('h1'),
    postings: await text('#company-postings strong'),
    reposts: await text('#company-reposts strong'),
    months: await table('monthly-table'),
    titles: await table('titles'),
    history: (await page.$('#history')) ? await table('history') : await text('section[aria-labelledby="history-title"] p'),
    phoneOverflow: await phoneOverflow(),
  };
  await shots('company');

  console.log(
    JSON.stringify({ signInAddress, trends, weekly, remote, companies, byReposts, company, tooWide, origins: [...origins], problems }),
  );
} finally {
  await browser.close();
}
