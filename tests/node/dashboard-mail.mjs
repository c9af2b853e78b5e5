// Saving a search that mails, in the live page of a running `rats serve` that has a mail server,
// in a real browser (Debian's chromium through playwright-core): signs in on the way to
// /live?title=quantum, ticks "and email me a digest" (the address field appears), gives an
// address and a name, saves; reads the page's answer and the new search's ✉ state; turns the
// mail off with ✉ and on again. Prints what it saw as one JSON object on stdout, with every
// console error, script error and failed request, and every origin reached.
//
//   node tests/node/dashboard-mail.mjs BASE_URL USER PASSWORD ADDRESS
import { args, dashboardPage, launch } from './browser.mjs';

const { base, user, password, address } = args('dashboard-mail.mjs BASE_URL USER PASSWORD ADDRESS', ['base', 'user', 'password', 'address']);

const browser = await launch();
try {
  const { page, problems, origins } = await dashboardPage(browser);
  await page.goto(`${base}/live?title=quantum`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/\/live\?title=quantum$/), page.click('button[type=submit]')]);
  await page.waitForSelector('#save-search:not([hidden])', { timeout: 10000 });
  const addressShownAtFirst = await page.isVisible('#save-address');
  await page.check('#save-email');
  const addressShownWhenTicked = await page.isVisible('#save-address');
  await page.fill('#save-address input', address);
  await page.fill('#save-search input[name=name]', 'Quantum by mail');
  await page.click('#save-search button[type=submit]');
  const mail = '#searches li:has-text("Quantum by mail") button[aria-label^="Email"]';
  await page.waitForSelector(mail, { timeout: 10000 }).catch(async (error) => {
    throw new Error(`${error.message}\nurl ${page.url()} the alerts panel: ${await page.$eval("#alerts-panel", (e) => e.outerHTML)}\n${problems.join('\n')}`);
  });
  const saved = { help: (await page.textContent('#alerts-help')).trim(), pressed: await page.getAttribute(mail, 'aria-pressed') };
  await page.click(mail);
  await page.waitForSelector(`${mail}[aria-pressed="false"]`, { timeout: 10000 });
  const off = (await page.textContent('#alerts-help')).trim();
  await page.click(mail);
  await page.waitForSelector(`${mail}[aria-pressed="true"]`, { timeout: 10000 });
  const on = (await page.textContent('#alerts-help')).trim();
  console.log(JSON.stringify({ addressShownAtFirst, addressShownWhenTicked, saved, off, on, problems, origins: [...origins] }));
} finally {
  await browser.close();
}
