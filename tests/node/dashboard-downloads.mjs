// The table downloads of a running `rats serve` in a real browser (Debian's chromium through
// playwright-core), as a person takes them: signs in on the way to a search (QUERY, its query
// string), downloads the page of postings as CSV, JSON and Excel, then pay by seniority from the
// salary page as Excel, each saved into OUT_DIR under the name the server gave it. Prints what
// it saw as one JSON object on stdout: the files (the page, the link's address, the file name),
// every console error, script error and failed request, and every origin reached.
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

  console.log(JSON.stringify({ files, problems, origins: [...origins] }));
} finally {
  await browser.close();
}
