// The dashboard's own script, small on purpose: the theme toggle, signing out (the API's
// sign-out with the session's CSRF token), the zoomable charts of any page that embeds their
// series as JSON, and following the lake: a page that shows a lake version reads itself again
// when `rats consume` commits (the live stream without its postings), and every page shows the
// saved-search alerts. Everything else is server-rendered and works without it.
'use strict';

const cookie = (name) =>
  document.cookie.split('; ').find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1) ?? null;

// What the pages' scripts share (live.js too).
window.rats = {
  element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  },
  // Milliseconds before reconnect attempt `attempt` (1, 2, …): doubling from 1 s up to 30 s,
  // each a random time between half of that and all of it, so clients a restart dropped
  // together do not come back together.
  backoff(attempt) {
    const ceiling = Math.min(30000, 1000 * 2 ** (attempt - 1));
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  },
  // A JSON call of the API with the session's CSRF token.
  async api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': cookie('rats_csrf') ?? '' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
    const text = await response.text();
    return { ok: response.ok, status: response.status, body: text ? JSON.parse(text) : null };
  },
  // Whether the session still holds, renewing it from the refresh cookie when the short access
  // cookie has expired. A server that does not answer counts as yes: the caller's next attempt
  // then fails and backs off again.
  async signedIn() {
    try {
      const me = await fetch('/v1/me', { credentials: 'same-origin' });
      if (me.status !== 401) return true;
      return (await window.rats.api('POST', '/v1/auth/refresh', {})).ok;
    } catch {
      return true;
    }
  },
  // What an `alert` event says: the search, the posting (linked) and where it is.
  alertContent(alert) {
    const where = [alert.company, alert.place].filter(Boolean).join(', ');
    return [
      window.rats.element('strong', {}, `${alert.search}: `),
      window.rats.element('a', { href: `/jobs/${encodeURIComponent(alert.posting_key)}` }, alert.title),
      where ? ` — ${where}` : '',
    ];
  },
  // The lines of a time-series chart (see drawSeries): each with its label, colour, whether it
  // is dashed and whether it shows before the legend is touched.
  seriesStyles(holder) {
    const labels = holder.dataset.labels ? JSON.parse(holder.dataset.labels) : [holder.dataset.label];
    const style = getComputedStyle(document.documentElement);
    const css = (name) => style.getPropertyValue(name).trim();
    const single = labels.length === 1;
    return labels.map((label, i) => ({
      label,
      colour: single ? css('--accent') : css({ other: '--s7', unknown: '--muted' }[label] ?? `--s${i + 1}`),
      dashed: !single && label === 'unknown',
      show: single || (label !== 'other' && label !== 'unknown'),
      single,
    }));
  },
  // A message in the page's toast area (a polite live region) for `seconds`.
  toast(seconds, ...content) {
    const holder = document.getElementById('toasts');
    if (!holder) return;
    const close = window.rats.element('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss' }, '×');
    const item = window.rats.element('div', { class: 'toast' }, ...content, ' ', close);
    close.addEventListener('click', () => item.remove());
    holder.append(item);
    setTimeout(() => item.remove(), seconds * 1000);
  },
};

function setUpTheme() {
  const button = document.getElementById('theme');
  const saved = localStorage.getItem('rats-theme');
  if (saved) document.documentElement.dataset.theme = saved;
  button.hidden = false;
  button.addEventListener('click', () => {
    const dark = getComputedStyle(document.documentElement).colorScheme === 'dark';
    const next = dark ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('rats-theme', next);
    document.dispatchEvent(new Event('rats-theme'));
  });
}

function setUpSignOut() {
  const button = document.getElementById('sign-out');
  if (!button) return;
  button.hidden = false;
  button.addEventListener('click', async () => {
    await window.rats.api('POST', '/v1/auth/logout', {}); // finished before the page goes away
    window.location.assign('/login');
  });
}

// Time series drawn into `holder` (<div data-series="ID" data-label="…"> for one series, or
// data-labels='["…", …]' for several) from <script type="application/json" id="ID">
// [[unix seconds], [values], …], redrawn on resize and theme change. Several series take the
// palette's colours in order; "other" (grey) and "unknown" (dashed) start hidden, so the named
// groups set the scale, and the legend shows them. One series takes the accent.
function drawSeries(holder) {
  const source = document.getElementById(holder.dataset.series);
  if (!source || typeof uPlot === 'undefined') return;
  const data = JSON.parse(source.textContent);
  if (!data[0].length) return;
  let chart = null;
  // Which lines show now (the legend hides and shows them), for the chart's files.
  holder.shown = () => chart?.series.slice(1).map((s) => s.show);
  const draw = () => {
    chart?.destroy();
    if (!holder.isConnected) return; // the page read itself again: a new chart replaced it
    const style = getComputedStyle(document.documentElement);
    const css = (name) => style.getPropertyValue(name).trim();
    const axis = { stroke: css('--muted'), grid: { stroke: css('--line') }, ticks: { stroke: css('--line') } };
    const series = window.rats.seriesStyles(holder).map((line) => ({
      label: line.label,
      stroke: line.colour,
      width: 2,
      dash: line.dashed ? [6, 4] : undefined,
      fill: line.single ? `${line.colour}22` : undefined,
      points: { show: data[0].length < 60 },
      show: line.show,
    }));
    chart = new uPlot(
      {
        width: holder.clientWidth,
        height: 240,
        series: [{}, ...series],
        axes: [axis, axis],
        scales: { x: { time: true } },
      },
      data,
      holder,
    );
  };
  draw();
  new ResizeObserver(() => chart && chart.setSize({ width: holder.clientWidth, height: 240 })).observe(holder);
  document.addEventListener('rats-theme', draw);
}

// The page as the server makes it now, once the snapshot has read lake version `version` or
// later (it is read again a moment after the commit: tried for 20 s). Not while someone types
// in it: then a toast offers to reload.
let reading = false;
async function readAgain(version, tries = 0) {
  const main = document.getElementById('main');
  if (reading || !(version > Number(main.dataset.lakeVersion))) return;
  reading = true;
  try {
    const response = await fetch(window.location.href, { credentials: 'same-origin' });
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById('main');
    const freshVersion = Number(fresh?.dataset.lakeVersion);
    if (!response.ok || !(freshVersion > Number(main.dataset.lakeVersion))) {
      if (tries < 20) setTimeout(() => readAgain(version, tries + 1), 1000);
      return;
    }
    if (main.contains(document.activeElement) && document.activeElement.matches('input, select, textarea')) {
      const reload = window.rats.element('button', { type: 'button', class: 'link' }, 'Reload');
      reload.addEventListener('click', () => window.location.reload());
      window.rats.toast(60, `The lake has new postings (version ${freshVersion}). `, reload);
      return;
    }
    main.replaceChildren(...fresh.childNodes);
    main.dataset.lakeVersion = String(freshVersion);
    main.querySelectorAll('.chart[data-series]').forEach(drawSeries);
    document.dispatchEvent(new Event('rats-read-again'));
    window.rats.toast(5, `Updated to lake version ${freshVersion}.`);
  } catch {
    // The server is away; the next commit tries again.
  } finally {
    reading = false;
  }
}

// A saved search's new posting, as a toast on any page.
function showAlert(alert) {
  window.rats.toast(20, ...window.rats.alertContent(alert));
}

// The live stream without its postings, for pages that show a lake version (the live page
// follows the whole stream itself), reconnecting with backoff.
function followLake() {
  const main = document.getElementById('main');
  if (!main.dataset.lakeVersion || document.getElementById('feed') || typeof EventSource === 'undefined') return;
  let attempt = 0;
  const connect = () => {
    const source = new EventSource('/v1/stream?postings=false');
    source.addEventListener('open', () => {
      attempt = 0;
    });
    source.addEventListener('ingest', (event) => readAgain(Number(event.lastEventId)));
    source.addEventListener('alert', (event) => showAlert(JSON.parse(event.data)));
    source.addEventListener('error', () => {
      source.close();
      attempt += 1;
      setTimeout(async () => {
        if (await window.rats.signedIn()) connect();
      }, window.rats.backoff(attempt));
    });
  };
  connect();
}

document.addEventListener('DOMContentLoaded', () => {
  setUpTheme();
  setUpSignOut();
  document.querySelectorAll('.chart[data-series]').forEach(drawSeries);
  followLake();
});
