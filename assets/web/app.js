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

// Time series drawn into `holder` (<div data-series="ID" data-label="…"> for one series, or
// data-labels='["…", …]' for several) from <script type="application/json" id="ID">
// [[unix seconds], [values], …], redrawn on resize and theme change. Several series take the
// palette's colours in order; "other" (grey) and "unknown" (dashed) start hidden, so the named
// groups set the scale, and the legend shows them. One series takes the accent.
function drawSeries(holder) {
  const source = document.getElementById(holder.dataset.series);
  const labels = holder.dataset.labels ? JSON.parse(holder.dataset.labels) : [holder.dataset.label];
  if (!source || typeof uPlot === 'undefined') return;
  const data = JSON.parse(source.textContent);
  if (!data[0].length) return;
  let chart = null;
  const draw = () => {
    chart?.destroy();
    const style = getComputedStyle(document.documentElement);
    const css = (name) => style.getPropertyValue(name).trim();
    const axis = { stroke: css('--muted'), grid: { stroke: css('--line') }, ticks: { stroke: css('--line') } };
    const single = labels.length === 1;
    const rest = (label) => !single && (label === 'other' || label === 'unknown');
    const series = labels.map((label, i) => {
      const colour = single ? css('--accent') : css({ other: '--s7', unknown: '--muted' }[label] ?? `--s${i + 1}`);
      return {
        label,
        stroke: colour,
        width: 2,
        dash: label === 'unknown' && !single ? [6, 4] : undefined,
        fill: single ? `${colour}22` : undefined,
        points: { show: data[0].length < 60 },
        show: !rest(label),
      };
    });
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

document.addEventListener('DOMContentLoaded', () => {
  setUpTheme();
  setUpSignOut();
  document.querySelectorAll('.chart[data-series]').forEach(drawSeries);
});
