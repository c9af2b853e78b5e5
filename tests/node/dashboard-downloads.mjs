// The table downloads of a running `rats serve` in a real browser (Debian's chromium through
// playwright-core), as a person takes them: signs in on the way to a search (QUERY, its query
// string), downloads the page of postings as CSV, JSON and Excel, then pay by seniority from the
// salary page as Excel, each saved into OUT_DIR under the name the server gave it. Prints what
// it saw as one JSON object on stdout: the files (the page, the link's address, the file name),
// every console error, script error and failed request, and every origin reached. Then saves
// the charts of pay by seniority, a skills heatmap and the trends as PNG and SVG, with what each
// page shows of them (the box plot's rows, the heatmap's size, the trend lines shown).
//
//   node tests/node/dashboard-downloads.mjs BASE_URL USER PASSWORD QUERY OUT_DIR
import path from 'node:path';

import { args, dashboardPage, launch } from './browser.mjs';

const { base, user, password, query, out } = args(
  'dashboard-downloads.mjs BASE_URL USER PASSWORD QUERY OUT_DIR',
  ['base', 'user', 'password', 'query', 'out'],
);

const browser = await launch();
try {
  const { page, problems, origins } = await dashboardPage(browser);
  const files = [];
  // Clicks the link and keeps the file the browser downloads.
  const take = async (where, link) => {
    const href = await page.getAttribute(link, 'href');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(link)]);
    const file = download.suggestedFilename();
    await download.saveAs(path.join(out, file));
    files.push({ page: where, href, file, failure: await download.failure() });
  };

  await page.goto(`${base}/jobs?${query}`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#found');
  for (const format of ['CSV', 'JSON', 'Excel']) await take('jobs', `#results ~ .downloads a:text-is("${format}")`);

  await page.goto(`${base}/salary`);
  await page.waitForSelector('#summary');
  await take('salary', 'section:has(h2:text-is("By seniority")) .downloads a:text-is("Excel")');

  // Charts as PNG and SVG: the box plot of pay by seniority, a skills heatmap, the trends chart.
  const charts = {};
  const chart = async (where, figure, buttons) => {
    for (const format of ['PNG', 'SVG']) await take(where, `${buttons} button:text-is("${format}")`);
    charts[where] = await figure();
  };
  await chart(
    'salary',
    () => page.$$eval('#by-seniority tbody th', (cells) => ({ rows: cells.map((c) => c.textContent.trim()) })),
    'section:has(h2:text-is("By seniority")) .chart-files',
  );
  await page.goto(`${base}/skills`);
  await page.waitForSelector('#heat-month');
  await chart(
    'skills',
    () => page.$eval('#heat-month', (t) => ({ rows: t.tBodies[0].rows.length, columns: t.tHead.rows[0].cells.length - 1 })),
    '#heat-month + .chart-files, .scroll:has(#heat-month) + .chart-files',
  );
  await page.goto(`${base}/trends`);
  await page.waitForSelector('#trends-chart canvas');
  // The largest group hidden by its legend entry: the file draws what the chart shows.
  await page.click('#trends-chart .u-legend tr.u-series:nth-child(2)');
  await chart(
    'trends',
    () =>
      page.$eval('#trends-chart', (holder) => ({
        shown: window.rats.seriesStyles(holder).filter((_, i) => holder.shown()[i]).map((line) => line.label),
        hidden: window.rats.seriesStyles(holder).filter((_, i) => !holder.shown()[i]).map((line) => line.label),
      })),
    '#trends-chart + .chart-files',
  );

  console.log(JSON.stringify({ files, charts, problems, origins: [...origins] }));
} finally {
  await browser.close();
}
