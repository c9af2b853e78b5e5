// What the browser tests share: Debian's chromium started headless through playwright-core,
// and a watch on a page that collects every console error, script error and failed request
// (`problems`) and every origin the page reached (`origins`).
import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

// `expectedFailure(request)` names failed requests that are not problems.
export function watch(page, expectedFailure = () => false) {
  const seen = { problems: [], origins: new Set() };
  page.on('console', (message) => {
    if (message.type() === 'error') seen.problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => seen.problems.push(`script: ${error.message}`));
  page.on('request', (request) => seen.origins.add(new URL(request.url()).origin));
  // Leaving a page closes its live stream (/v1/stream): the browser calls that an aborted request.
  const streamClosed = (request) =>
    new URL(request.url()).pathname === '/v1/stream' && request.failure()?.errorText === 'net::ERR_ABORTED';
  page.on('requestfailed', (request) => {
    if (!streamClosed(request) && !expectedFailure(request)) seen.problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  return seen;
}

// What the dashboard scripts read pages with: the address, an element's text, a table's cells,
// light and dark screenshots (into `screenshots`, when given), and how far the page is wider
// than a phone's screen (what sticks out, outside the tables that scroll by themselves, is kept
// in `tooWide`).
export function pageTools(page, screenshots) {
  const tooWide = [];
  return {
    tooWide,
    address: () => new URL(page.url()).pathname + new URL(page.url()).search,
    text: async (selector) => (await page.textContent(selector))?.replace(/\s+/g, ' ').trim(),
    cells: (selector) =>
      page.$$eval(selector, (rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent.replace(/\s+/g, ' ').trim()))),
    shots: async (name) => {
      if (!screenshots) return;
      await page.screenshot({ path: `${screenshots}/${name}-light.png`, fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: `${screenshots}/${name}-dark.png`, fullPage: true });
      await page.emulateMedia({ colorScheme: 'light' });
    },
    phoneOverflow: async () => {
      const before = page.viewportSize();
      await page.setViewportSize({ width: 375, height: 800 });
      const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
      if (overflow > 0) {
        tooWide.push(
          await page.evaluate(() =>
            [...document.querySelectorAll('body *')]
              .filter((e) => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1)
              .slice(0, 5)
              .map((e) => `${location.pathname} ${e.tagName}.${e.className}#${e.id}`),
          ),
        );
      }
      await page.setViewportSize(before);
      return overflow;
    },
  };
}

// The arguments a script was given, by name; exits with `usage` when a required one is missing.
export function args(usage, required, optional = []) {
  const given = process.argv.slice(2);
  if (given.length < required.length) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return Object.fromEntries([...required, ...optional].map((name, i) => [name, given[i]]));
}

// A dashboard page in a new light 1200×900 context, watched for problems. Chromium fetches the
// icon in the background and cancels it when the page moves on: that is not one.
export async function dashboardPage(browser) {
  const context = await browser.newContext({ colorScheme: 'light', viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  return { page, ...watch(page, iconCancelled) };
}

export const iconCancelled = (request) =>
  request.url().includes('/assets/favicon.svg') && request.failure()?.errorText === 'net::ERR_ABORTED';
