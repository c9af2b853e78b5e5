// Screenshots of dashboard pages in light and dark: signs in through the form, then for each
// path saves OUT/NAME-light.png and OUT/NAME-dark.png (the top WIDTH×HEIGHT of the page, or the
// whole page with FULL=1). NAME is given as NAME=PATH, or else made from the path (`/` is
// "overview", `/skills/python` "skills-python").
//
//   node screenshots.mjs BASE USER PASSWORD OUT [NAME=]PATH…
import { mkdirSync } from 'node:fs';
import { launch } from './browser.mjs';

const [base, user, password, out, ...paths] = process.argv.slice(2);
const width = Number(process.env.WIDTH || 1280);
const height = Number(process.env.HEIGHT || 900);
mkdirSync(out, { recursive: true });

const named = (arg) => {
  const given = arg.match(/^([a-z0-9-]+)=(\/.*)$/);
  if (given) return [given[1], given[2]];
  const name = arg === '/' ? 'overview' : arg.split('?')[0].replace(/^\//, '').replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  return [name, arg];
};

const browser = await launch();
try {
  for (const scheme of ['light', 'dark']) {
    const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill('#username', user);
    await page.fill('#password', password);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    for (const [name, path] of paths.map(named)) {
      const response = await page.goto(`${base}${path}`, { waitUntil: 'networkidle' });
      if (!response.ok()) throw new Error(`${path}: ${response.status()}`);
      const file = `${out}/${name}-${scheme}.png`;
      await page.screenshot({ path: file, fullPage: process.env.FULL === '1' });
      console.log(file);
    }
    await context.close();
  }
} finally {
  await browser.close();
}
