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
  page.on('requestfailed', (request) => {
    if (!expectedFailure(request)) seen.problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  return seen;
}
