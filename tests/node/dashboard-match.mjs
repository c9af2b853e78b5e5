// The match page of a running `rats serve` in a real browser (Debian's chromium through
// playwright-core), used as a person would: signs in on the way to the page, uploads the CV
// file CV with the form, reads the CV as the server read it, the ranked postings with their
// scores and skills, and the advice; then uploads REFUSED, a file the server cannot read. Prints
// what it saw as one JSON object on stdout, with every console error, script error and failed
// request, and every origin reached. With SCREENSHOTS, saves the answer there, light and dark.
//
//   node tests/node/dashboard-match.mjs BASE_URL USER PASSWORD CV REFUSED [SCREENSHOTS]
import { args, dashboardPage, launch, pageTools } from './browser.mjs';

const { base, user, password, cv, refused, screenshots } = args(
  'dashboard-match.mjs BASE_URL USER PASSWORD CV REFUSED [SCREENSHOTS]',
  ['base', 'user', 'password', 'cv', 'refused'],
  ['screenshots'],
);

const browser = await launch();
try {
  const { page, problems, origins } = await dashboardPage(browser);
  const { address, text, shots, phoneOverflow, tooWide } = pageTools(page, screenshots);

  await page.goto(`${base}/match`);
  const signInAddress = address();
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/\/match$/), page.click('button[type=submit]')]);

  await page.setInputFiles('input[name=resume]', cv);
  await Promise.all([page.waitForSelector('#match-summary'), page.click('form.filters button[type=submit]')]);
  const answer = {
    address: address(),
    cv: await text('#cv-summary'),
    summary: await text('#match-summary'),
    jobs: await page.$$eval('#matches > li .match-head a', (links) => links.map((a) => a.getAttribute('href'))),
    scores: await page.$$eval('#matches > li .score', (scores) => scores.map((s) => s.textContent.trim())),
    explained: await page.$$eval('#matches > li .explanation', (lines) => lines.filter((p) => p.textContent.trim()).length),
    advice: await page.$$eval('#advice li a', (links) => links.map((a) => a.getAttribute('href'))),
    phoneOverflow: await phoneOverflow(),
  };
  await shots('match');

  await page.setInputFiles('input[name=resume]', refused);
  const [response] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/match' && r.request().method() === 'POST'), page.click('form.filters button[type=submit]')]);
  await page.waitForSelector('#form-error');
  const refusal = { status: response.status(), error: await text('#form-error') };

  console.log(JSON.stringify({ signInAddress, answer, refusal, tooWide, origins: [...origins], problems }));
} finally {
  await browser.close();
}
