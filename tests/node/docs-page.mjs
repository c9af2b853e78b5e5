// Opens the API reference page of a running `rats serve` (`/docs`) in a real browser — Debian's
// chromium, headless, driven by playwright-core — and does what a person would: waits for the
// page to render the operations from /openapi.json, types an API key, and sends two requests
// from "Try it" (GET /v1/me, and POST /v1/predict/salary with the body the page proposes after
// filling in a title). Prints what the page showed as one JSON object on stdout, with every
// console error, script error, refused or failed request, and every origin the page reached.
//
//   node tests/node/docs-page.mjs BASE_URL API_KEY
import { launch, watch } from './browser.mjs';

const [base, key] = process.argv.slice(2);
if (!base || !key) {
  console.error('usage: docs-page.mjs BASE_URL API_KEY');
  process.exit(2);
}

const browser = await launch();
try {
  const page = await browser.newPage();
  const { problems, origins } = watch(page);

  await page.goto(`${base}/docs`);
  await page.waitForSelector('section.op', { timeout: 15000 });
  const title = await page.textContent('#api-title');
  const operations = await page.$$eval('section.op', (sections) => sections.map((s) => s.id));
  const links = await page.$$eval('#toc a', (anchors) => anchors.map((a) => a.getAttribute('href')));

  await page.fill('#credential', key);
  // "Try it" on an operation: opens it, optionally edits the proposed body, sends, and returns
  // the answer the page shows once it is in.
  const tryIt = async (id, editBody) => {
    const section = page.locator(`section#${id}`);
    const details = section.locator('details').last();
    await details.locator('summary').click();
    let proposed = null;
    if (editBody) {
      const textarea = details.locator('textarea');
      proposed = JSON.parse(await textarea.inputValue());
      await textarea.fill(JSON.stringify(editBody(proposed)));
    }
    await details.locator('button').click();
    const output = details.locator('pre');
    await page.waitForFunction((el) => /^\d{3} /.test(el.textContent), await output.elementHandle(), { timeout: 15000 });
    return { proposed, shown: await output.textContent() };
  };
  const me = await tryIt('get_v1_me');
  const salary = await tryIt('post_v1_predict_salary', (body) => ({ ...body, title: 'Data Engineer' }));

  console.log(JSON.stringify({ title, operations, links, me, salary, origins: [...origins], problems }));
} finally {
  await browser.close();
}
