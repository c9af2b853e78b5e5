// The dashboard's own script, small on purpose: the theme toggle, signing out (the API's
// sign-out with the session's CSRF token), and the zoomable charts of any page that embeds their
// series as JSON. Everything else is server-rendered and works without it.
'use strict';

const cookie = (name) =>
  document.cookie.split('; ').find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1) ?? null;

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
    const response = await fetch('/v1/auth/logout', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': cookie('rats_csrf') ?? '' },
      body: '{}',
      credentials: 'same-origin',
    });
    await response.arrayBuffer(); // finished before the page goes away
    window.location.assign('/login');
  });
}

// A time series drawn into `holder` (<div data-series="ID" data-label="…">) from
// <script type="application/json" id="ID">[[unix seconds], [values]], redrawn on resize and
// theme change.
function drawSeries(holder) {
  const source = document.getElementById(holder.dataset.series);
  const label = holder.dataset.label;
  if (!source || typeof uPlot === 'undefined') return;
  const data = JSON.parse(source.textContent);
  if (!data[0].length) return;
  let chart = null;
  const draw = () => {
    chart?.destroy();
    const style = getComputedStyle(document.documentElement);
    const fg = style.getPropertyValue('--muted').trim();
    const grid = style.getPropertyValue('--line').trim();
    const accent = style.getPropertyValue('--accent').trim();
    const axis = { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } };
    chart = new uPlot(
      {
        width: holder.clientWidth,
        height: 240,
        series: [{}, { label, stroke: accent, width: 2, fill: `${accent}22`, points: { show: data[0].length < 60 } }],
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

document.addEventListener('DOMContentLoaded', () => {
  setUpTheme();
  setUpSignOut();
  document.querySelectorAll('.chart[data-series]').forEach(drawSeries);
});
