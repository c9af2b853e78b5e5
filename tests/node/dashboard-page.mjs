// Uses the dashboard of a running `rats serve` in a real browser — Debian's chromium, headless,
// driven by playwright-core — as a person would: opens the site (and is sent to sign in), signs
// in with the form, reads the overview's figures, its chart and the table behind it, switches
// the theme, looks at the page at a phone's width, signs out, and opens the site again. Prints
// what it saw as one JSON object on stdout, with every console error, script error, refused or
// failed request, and every origin the pages reached. With SCREENSHOTS, saves the overview in
// both themes and at a phone's width there.
//
//   node tests/node/dashboard-page.mjs BASE_URL USER PASSWORD [SCREENSHOTS]
import { args, dashboardPage, launch } from './browser.mjs';

const { base, user, password, screenshots } = args(
  'dashboard-page.mjs BASE_URL USER PASSWORD [SCREENSHOTS]',
  ['base', 'user', 'password'],
  ['screenshots'],
);

const browser = await launch();
try {
  const { page, problems, origins } = await dashboardPage(browser);
  const shot = async (name) => {
    if (screenshots) await page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: true });
  };

  await page.goto(`${base}/`);
  const signInAddress = new URL(page.url()).pathname + new URL(page.url()).search;

  await page.fill('#username', user);
  await page.fill('#password', 'not the password');
  await page.click('button[type=submit]');
  const refusal = await page.textContent('.error');
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#postings');
  const afterSignIn = new URL(page.url()).pathname;

  const text = async (selector) => (await page.textContent(selector))?.replace(/\s+/g, ' ').trim();
  const figures = {
    postings: await text('#postings strong'),
    new_this_week: await text('#new-this-week strong'),
    companies_hiring: await text('#companies-hiring strong'),
    median_pay: await text('#median-pay strong'),
    freshness: await text('#freshness'),
  };
  await page.waitForSelector('#weekly-chart canvas', { timeout: 10000 });
  const chartWidth = await page.$eval('#weekly-chart canvas', (canvas) => canvas.getBoundingClientRect().width);
  const weekly = await page.$$eval('#weekly-table tbody tr', (rows) =>
    rows.map((row) => [...row.cells].map((cell) => cell.textContent.trim())),
  );
  const skills = await page.$$eval('#top-skills tbody tr', (rows) =>
    rows.map((row) => [...row.cells].slice(0, 3).map((cell) => cell.textContent.trim())),
  );
  await shot('overview-light');

  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const lightBackground = await background();
  await page.click('#theme');
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  const darkBackground = await background();
  await shot('overview-dark');
  await page.reload();
  const themeKept = await page.evaluate(() => document.documentElement.dataset.theme);

  await page.setViewportSize({ width: 375, height: 800 });
  const phoneOverflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
  await shot('overview-phone');
  await page.setViewportSize({ width: 1200, height: 900 });

  await page.click('#sign-out');
  await page.waitForURL(/\/login/);
  await page.goto(`${base}/`);
  const afterSignOut = new URL(page.url()).pathname;

  console.log(
    JSON.stringify({
      signInAddress,
      refusal,
      afterSignIn,
      figures,
      chartWidth,
      weekly,
      skills,
      lightBackground,
      theme,
      darkBackground,
      themeKept,
      phoneOverflow,
      afterSignOut,
      origins: [...origins],
      problems,
    }),
  );
} finally {
  await browser.close();
}
