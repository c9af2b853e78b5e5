// The jobs and salary pages of a running `rats serve` in a real browser (Debian's chromium
// through playwright-core), used as a person would: signs in on the way to a search (QUERY, the
// search's starting query string), orders it best paid first, pages on, opens a posting, sends
// a filter the server refuses, looks at pay by seniority, filters it to remote work, asks the
// salary predictor, reads the skills heatmaps and opens a skill's page. Prints what it saw as
// one JSON object on stdout, with every console error, script error and failed request, and
// every origin reached. With SCREENSHOTS, saves each page there, light and dark.
//
//   node tests/node/dashboard-search.mjs BASE_URL USER PASSWORD QUERY [SCREENSHOTS]
import { args, dashboardPage, launch, pageTools } from './browser.mjs';

const { base, user, password, query, screenshots } = args(
  'dashboard-search.mjs BASE_URL USER PASSWORD QUERY [SCREENSHOTS]',
  ['base', 'user', 'password', 'query'],
  ['screenshots'],
);

const browser = await launch();
try {
  const { page, problems, origins } = await dashboardPage(browser);
  const { address, text, cells, shots, phoneOverflow, tooWide } = pageTools(page, screenshots);

  await page.goto(`${base}/jobs?${query}`);
  const signInAddress = address();
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#found');

  // The search form: the title word (already there from the address), best paid first.
  const titleKept = await page.inputValue('input[name=title]');
  await page.selectOption('select[name=sort]', 'salary');
  await Promise.all([page.waitForURL(/sort=salary/), page.click('form.filters button[type=submit]')]);
  const search = {
    address: address(),
    found: await text('#found'),
    keys: await page.$$eval('#results tbody tr td:first-child a', (links) => links.map((a) => a.getAttribute('href'))),
    titles: await page.$$eval('#results tbody tr td:first-child a', (links) => links.map((a) => a.textContent)),
    pay: (await cells('#results tbody tr')).map((row) => row[5]),
    phoneOverflow: await phoneOverflow(),
  };
  await shots('jobs');

  let nextPage = null;
  if (await page.$('#next-page')) {
    await Promise.all([page.waitForURL(/cursor=/), page.click('#next-page')]);
    nextPage = {
      address: address(),
      keys: await page.$$eval('#results tbody tr td:first-child a', (links) => links.map((a) => a.getAttribute('href'))),
    };
    await page.goBack();
  }

  await Promise.all([page.waitForURL(/\/jobs\/[0-9a-f]+$/), page.click('#results tbody tr td:first-child a')]);
  const posting = {
    address: address(),
    title: await text('h1'),
    skills: await page.$$eval('#skills a', (links) => links.map((a) => a.getAttribute('href'))),
    sightings: (await page.$('#sightings')) ? (await cells('#sightings tbody tr')).length : 0,
    description: (await text('.description'))?.length ?? 0,
  };
  await shots('posting');

  const refused = await page.goto(`${base}/jobs?salary_min=lots`);
  const refusal = { status: refused.status(), error: await text('#form-error'), kept: await page.inputValue('input[name=salary_min]') };

  await page.goto(`${base}/salary`);
  const salary = {
    summary: await text('#summary'),
    seniority: await cells('#by-seniority tbody tr'),
    boxes: await page.$$eval('#by-seniority tbody svg rect.box', (boxes) => boxes.map((b) => b.getBoundingClientRect().width)),
    premiums: (await cells('#premiums-up tbody tr')).length,
    phoneOverflow: await phoneOverflow(),
  };
  await shots('salary');
  await page.click('.filterbox summary');
  await page.selectOption('select[name=remote]', 'remote');
  await Promise.all([page.waitForURL(/remote=remote/), page.click('form.filters button[type=submit]')]);
  const remoteSalary = { address: address(), summary: await text('#summary') };

  await page.goto(`${base}/salary/estimate`);
  await page.fill('input[name=title]', 'Senior Data Engineer');
  await page.fill('input[name=location]', 'Seattle, WA');
  await page.fill('input[name=skills]', 'Python, SQL');
  await Promise.all([page.waitForURL(/title=/), page.click('form.filters button[type=submit]')]);
  const estimate = {
    address: address(),
    value: await text('#estimate-value'),
    low: await text('#estimate-low'),
    high: await text('#estimate-high'),
    drivers: await page.$$eval('#drivers li', (items) => items.map((li) => li.textContent.replace(/\s+/g, ' ').trim())),
    phoneOverflow: await phoneOverflow(),
  };
  await shots('estimate');

  await page.goto(`${base}/skills`);
  const skills = {
    heatMonths: await page.$$eval('#heat-month thead th', (cells) => cells.slice(1).map((c) => c.textContent.trim())),
    heatSkills: await page.$$eval('#heat-month tbody th a', (links) => links.map((a) => [a.getAttribute('href'), a.textContent])),
    heatShades: await page.$$eval('#heat-month tbody td', (cells) => cells.map((c) => c.className)),
    places: (await cells('#heat-place thead tr'))[0]?.slice(1) ?? [],
    pairs: (await cells('#pairs tbody tr')).length,
    phoneOverflow: await phoneOverflow(),
  };
  await shots('skills');
  await Promise.all([page.waitForURL(/\/skills\/[^/?]+$/), page.click('#heat-month tbody th a')]);
  await page.waitForSelector('#monthly-chart canvas', { timeout: 10000 });
  const skill = {
    address: address(),
    name: await text('h1'),
    postings: await text('#skill-postings strong'),
    months: (await cells('#monthly-table tbody tr')).length,
    namedWith: (await cells('#named-with tbody tr')).length,
    phoneOverflow: await phoneOverflow(),
  };
  await shots('skill');

  console.log(
    JSON.stringify({
      signInAddress,
      titleKept,
      search,
      nextPage,
      posting,
      refusal,
      salary,
      remoteSalary,
      estimate,
      skills,
      skill,
      tooWide,
      origins: [...origins],
      problems,
    }),
  );
} finally {
  await browser.close();
}
