// Every chart of a page as a file, PNG or SVG, from two buttons under it. The SVG is drawn here
// from the chart's own numbers — a time series' data (the lines its legend shows), a box plot's
// rows, a heatmap's cells — in the page's colours as shown (light or dark); the PNG is that SVG
// rasterised at twice its size. Without script there is nothing to save, and the table beside
// each chart holds its numbers.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
const FONT = 'system-ui, "DejaVu Sans", sans-serif';

function svgElement(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) node.setAttribute(name, String(value));
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// A drawing `width` × `height` on the page's background, `title` on top.
function drawing(width, height, title) {
  const svg = svgElement('svg', { xmlns: SVG_NS, width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': FONT, 'font-size': 12 });
  svg.append(svgElement('rect', { width, height, fill: cssVar('--bg') }));
  svg.append(svgElement('text', { x: 16, y: 24, 'font-size': 15, 'font-weight': 600, fill: cssVar('--fg') }, title));
  return svg;
}

// A round step for about `parts` gridlines up to `max`.
function step(max, parts) {
  const rough = max / parts;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
}

const day = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);

// A time-series chart (drawSeries in app.js): its shown lines over a time axis, a legend below.
function seriesDrawing(holder, title) {
  const data = JSON.parse(document.getElementById(holder.dataset.series).textContent);
  const shown = holder.shown?.() ?? [];
  const lines = window.rats
    .seriesStyles(holder)
    .map((line, i) => ({ ...line, values: data[i + 1], show: shown[i] ?? line.show }))
    .filter((line) => line.show);
  const [width, height, left, right, top, bottom] = [800, 380, 64, 24, 44, 72];
  const times = data[0];
  const [first, last] = [times[0], times[times.length - 1]];
  const highest = Math.max(1, ...lines.flatMap((line) => line.values.filter((v) => v !== null)));
  const gap = step(highest, 4);
  const ceiling = Math.ceil(highest / gap) * gap;
  const x = (t) => left + ((t - first) / (last - first || 1)) * (width - left - right);
  const y = (v) => top + (1 - v / ceiling) * (height - top - bottom);
  const svg = drawing(width, height, title);
  for (let v = 0; v <= ceiling + gap / 2; v += gap) {
    svg.append(svgElement('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: cssVar('--line') }));
    svg.append(svgElement('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', fill: cssVar('--muted') }, v.toLocaleString('en-US')));
  }
  const ticks = [...new Set([0, Math.floor((times.length - 1) / 2), times.length - 1])];
  for (const i of ticks) {
    // The first and last dates end at the plot's edges, so neither is cut off.
    const anchor = i === 0 ? 'start' : i === times.length - 1 ? 'end' : 'middle';
    svg.append(svgElement('text', { x: x(times[i]), y: height - bottom + 18, 'text-anchor': anchor, fill: cssVar('--muted') }, day(times[i])));
  }
  for (const line of lines) {
    let path = '';
    line.values.forEach((v, i) => {
      if (v !== null) path += `${path && line.values[i - 1] !== null ? 'L' : 'M'}${x(times[i]).toFixed(1)},${y(v).toFixed(1)}`;
    });
    svg.append(
      svgElement('path', { class: 'line', d: path, fill: 'none', stroke: line.colour, 'stroke-width': 2, 'stroke-dasharray': line.dashed ? '6 4' : undefined }),
    );
  }
  let at = left;
  for (const line of lines) {
    svg.append(svgElement('rect', { x: at, y: height - 26, width: 14, height: 4, fill: line.colour }));
    svg.append(svgElement('text', { class: 'legend', x: at + 20, y: height - 20, fill: cssVar('--fg') }, line.label));
    at += 40 + line.label.length * 7;
  }
  return svg;
}

// A copy of a drawn element with the styles the page's stylesheet gives it written in.
function inlined(node) {
  const copy = node.cloneNode(true);
  const style = getComputedStyle(node);
  for (const name of ['fill', 'fill-opacity', 'stroke', 'stroke-width', 'font-size', 'text-anchor']) {
    copy.setAttribute(name, style.getPropertyValue(name));
  }
  return copy;
}

// `source`'s drawing moved to (x, y) and scaled.
function placed(source, x, y, scale) {
  const group = svgElement('g', { transform: `translate(${x} ${y}) scale(${scale})` });
  for (const child of source.children) group.append(inlined(child));
  return group;
}

// A box plot table (boxplot.html): each row's label beside its box, on the shared axis.
function boxesDrawing(table, title) {
  const rows = [...table.tBodies[0].rows];
  const [labelWidth, scale] = [240, 1.25];
  const height = 44 + 20 * scale + rows.length * 24 * scale + 16;
  const svg = drawing(labelWidth + 400 * scale + 16, height, title);
  let top = 44;
  svg.append(placed(table.tHead.querySelector('svg'), labelWidth, top, scale));
  top += 20 * scale;
  for (const row of rows) {
    svg.append(svgElement('text', { class: 'group', x: 16, y: top + 12 * scale + 4, fill: cssVar('--fg') }, row.cells[0].textContent.trim()));
    svg.append(placed(row.querySelector('svg'), labelWidth, top, scale));
    top += 24 * scale;
  }
  return svg;
}

// A heatmap table (skills.html): its cells as shaded squares with their numbers.
function heatDrawing(table, title) {
  const columns = [...table.tHead.rows[0].cells].slice(1).map((cell) => cell.textContent.trim());
  const rows = [...table.tBodies[0].rows];
  const [labelWidth, cellWidth, rowHeight, top] = [200, 64, 26, 72];
  const svg = drawing(labelWidth + columns.length * cellWidth + 16, top + rows.length * rowHeight + 16, title);
  columns.forEach((name, i) => {
    svg.append(svgElement('text', { x: labelWidth + i * cellWidth + cellWidth / 2, y: top - 10, 'text-anchor': 'middle', fill: cssVar('--muted') }, name));
  });
  rows.forEach((row, r) => {
    const y = top + r * rowHeight;
    svg.append(svgElement('text', { x: 16, y: y + rowHeight / 2 + 4, fill: cssVar('--fg') }, row.cells[0].textContent.trim()));
    [...row.cells].slice(1).forEach((cell, i) => {
      const style = getComputedStyle(cell);
      const shade = style.backgroundColor === 'rgba(0, 0, 0, 0)' ? cssVar('--bg') : style.backgroundColor;
      const x = labelWidth + i * cellWidth;
      svg.append(svgElement('rect', { class: 'cell', x, y, width: cellWidth - 2, height: rowHeight - 2, fill: shade }));
      svg.append(svgElement('text', { x: x + cellWidth / 2, y: y + rowHeight / 2 + 3, 'text-anchor': 'middle', fill: style.color }, cell.textContent.trim()));
    });
  });
  return svg;
}

const asText = (svg) => new XMLSerializer().serializeToString(svg);

// The drawing as PNG at twice its size.
async function asPng(svg) {
  const image = new Image();
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(asText(svg))}`;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = 2 * Number(svg.getAttribute('width'));
  canvas.height = 2 * Number(svg.getAttribute('height'));
  const context = canvas.getContext('2d');
  context.scale(2, 2);
  context.drawImage(image, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = window.rats.element('a', { href: url, download: name, hidden: '' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// The heading a chart sits under, or its table's caption.
function titleOf(figure) {
  const heading = figure.closest('section')?.querySelector('h2');
  const own = heading?.firstChild?.textContent ?? figure.querySelector('caption')?.textContent ?? document.title;
  return own.replace(/\s+/g, ' ').trim();
}

// Two buttons after `after` that save `figure` drawn by `draw`.
function offerFiles(figure, after, draw) {
  if (after.nextElementSibling?.classList.contains('chart-files')) return;
  const title = titleOf(figure);
  const name = `rats${window.location.pathname.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}-${figure.id}`;
  const button = (format) => {
    const node = window.rats.element('button', { type: 'button', class: 'link', 'aria-label': `Save the chart “${title}” as ${format}` }, format);
    node.addEventListener('click', async () => {
      const svg = draw(figure, title);
      save(format === 'SVG' ? new Blob([asText(svg)], { type: 'image/svg+xml' }) : await asPng(svg), `${name}.${format.toLowerCase()}`);
    });
    return node;
  };
  after.after(window.rats.element('p', { class: 'chart-files' }, 'Chart as ', button('PNG'), ' or ', button('SVG')));
}

function offerEveryChart() {
  // A time series is offered once drawn (app.js's handler runs first).
  document.querySelectorAll('.chart[data-series]').forEach((holder) => holder.shown && offerFiles(holder, holder, seriesDrawing));
  document.querySelectorAll('table.boxplot').forEach((table) => offerFiles(table, table.closest('.scroll') ?? table, boxesDrawing));
  document.querySelectorAll('table.heat').forEach((table) => offerFiles(table, table.closest('.scroll') ?? table, heatDrawing));
}

document.addEventListener('DOMContentLoaded', offerEveryChart);
document.addEventListener('rats-read-again', offerEveryChart);
