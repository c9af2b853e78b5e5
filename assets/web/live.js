// The live page: follows GET /v1/stream from the place the server-rendered page reached (the
// same filters, so nothing is missed or shown twice), keeps the postings in a virtualised list
// (only the rows in view are in the document, so hundreds a second stay smooth), updates the
// jobs-per-hour, skills and pay panels, and shows saved-search alerts. When the connection
// drops it reconnects with exponential backoff and jitter, renewing the session first if it
// expired, and says so in the connection state.
'use strict';

const MAX_POSTINGS = 5000;
const OVERSCAN = 6;
const MAX_ALERTS = 20;

const usd = (value) =>
  value === null || value === undefined
    ? '–'
    : value >= 1000
      ? `$${(value / 1000).toFixed(value >= 100000 ? 0 : 1).replace(/\.0$/, '')}k`
      : `$${Math.round(value)}`;

const count = (value) => (value === null || value === undefined ? '–' : Number(value).toLocaleString('en-US'));

const percent = (share) => (share === null || share === undefined ? '–' : `${(share * 100).toFixed(1)}%`);

const { element } = window.rats;

// The same row as the template's `row` macro.
function postingRow(p) {
  const meta = [p.company ?? 'Company not given', p.place ?? 'place not given'];
  if (p.remote_type) meta.push(p.remote_type);
  if (p.salary_min_usd !== null || p.salary_max_usd !== null) meta.push(`${usd(p.salary_min_usd)}–${usd(p.salary_max_usd)}`);
  const skills = p.skills.slice(0, 6).map((s) => s.name).join(', ') || 'No skills found';
  return element(
    'li',
    { class: 'feed-row', 'data-id': p.id },
    element('a', { href: `/jobs/${encodeURIComponent(p.posting_key)}` }, p.title),
    element('span', { class: 'feed-meta' }, meta.join(' · ')),
    element('span', { class: 'feed-skills quiet' }, skills),
  );
}

// The postings, newest first, of which only the rows in view (and a few around) are elements.
class VirtualFeed {
  constructor(list, newButton, initial) {
    this.list = list;
    this.newButton = newButton;
    this.items = initial.slice().reverse(); // oldest first: adding is a push
    this.rows = new Map(); // id → element
    this.unseen = 0;
    this.pending = false;
    list.replaceChildren();
    list.classList.add('virtual');
    this.spacer = element('li', { class: 'feed-spacer', 'aria-hidden': 'true' });
    list.append(this.spacer);
    this.rowHeight = this.measure();
    list.addEventListener('scroll', () => {
      if (list.scrollTop < this.rowHeight / 2) this.seen();
      this.schedule();
    });
    newButton.addEventListener('click', () => {
      list.scrollTop = 0;
      this.seen();
      list.focus();
    });
    new ResizeObserver(() => this.schedule()).observe(list);
    this.render();
  }

  measure() {
    const probe = postingRow({ id: 'probe', posting_key: '', title: 'x', place: null, company: null, skills: [], salary_min_usd: null, salary_max_usd: null });
    this.list.append(probe);
    const height = probe.getBoundingClientRect().height || 72;
    probe.remove();
    return height;
  }

  add(posting) {
    this.items.push(posting);
    if (this.items.length > MAX_POSTINGS * 1.1) this.items.splice(0, this.items.length - MAX_POSTINGS);
    // Someone reading further down keeps their rows in place; the new ones wait above.
    if (this.list.scrollTop >= this.rowHeight / 2) {
      this.list.scrollTop += this.rowHeight;
      this.unseen += 1;
    }
    this.schedule();
  }

  seen() {
    this.unseen = 0;
    this.newButton.hidden = true;
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    const total = this.items.length;
    const height = this.rowHeight;
    this.spacer.style.height = `${Math.max(total, 1) * height}px`;
    const first = Math.max(0, Math.floor(this.list.scrollTop / height) - OVERSCAN);
    const last = Math.min(total, Math.ceil((this.list.scrollTop + this.list.clientHeight) / height) + OVERSCAN);
    const wanted = new Set();
    for (let position = first; position < last; position += 1) {
      const posting = this.items[total - 1 - position];
      wanted.add(posting.id);
      let row = this.rows.get(posting.id);
      if (!row) {
        row = postingRow(posting);
        this.rows.set(posting.id, row);
        this.list.append(row);
      }
      row.style.transform = `translateY(${position * height}px)`;
      row.setAttribute('aria-posinset', String(position + 1));
      row.setAttribute('aria-setsize', String(total));
    }
    for (const [id, row] of this.rows) {
      if (!wanted.has(id)) {
        row.remove();
        this.rows.delete(id);
      }
    }
    if (total === 0 && !this.list.querySelector('.feed-empty')) {
      this.list.append(element('li', { class: 'feed-empty' }, 'No posting yet.'));
    } else if (total > 0) {
      this.list.querySelector('.feed-empty')?.remove();
    }
    if (this.unseen > 0) {
      this.newButton.hidden = false;
      this.newButton.textContent = `${count(this.unseen)} new posting${this.unseen === 1 ? '' : 's'} above — show them`;
    }
  }
}

function tableBody(id, rows, empty, columns) {
  const body = document.querySelector(`#${id} tbody`);
  if (!body) return;
  body.replaceChildren(
    ...(rows.length ? rows : [element('tr', {}, element('td', { colspan: String(columns) }, empty))]),
  );
}

function showIngest(ingest) {
  const hours = ingest.hours.slice(-6).reverse();
  const when = (seconds) => `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  tableBody(
    'hours',
    hours.map((h) =>
      element('tr', {}, element('td', {}, when(h.start)), element('td', { class: 'num' }, count(h.postings)), element('td', { class: 'num' }, count(h.duplicates))),
    ),
    'No consume yet.',
    3,
  );
}

function showSkills(skills) {
  document.getElementById('trending-count').textContent = count(skills.postings);
  tableBody(
    'trending',
    skills.skills.map((s) =>
      element(
        'tr',
        {},
        element('td', {}, element('a', { href: `/skills/${encodeURIComponent(s.id)}` }, s.name)),
        element('td', { class: 'num' }, percent(s.share)),
        element('td', { class: 'num' }, percent(s.market_share)),
      ),
    ),
    'No skills named yet.',
    3,
  );
}

function showSalary(salary) {
  const rows = [['p10', '10th'], ['p25', '25th'], ['median', 'Median'], ['p75', '75th'], ['p90', '90th'], ['postings_with_pay', 'Postings with pay']];
  tableBody(
    'pay',
    rows.map(([key, label]) => {
      const shown = (side) => (key === 'postings_with_pay' ? count(side[key]) : usd(side[key]));
      return element('tr', {}, element('th', { scope: 'row' }, label), element('td', { class: 'num' }, shown(salary.newest)), element('td', { class: 'num' }, shown(salary.market)));
    }),
    '',
    3,
  );
}

// Alerts, newest first; the tab's title counts those that came while it was hidden.
function setUpAlerts() {
  const list = document.getElementById('alerts');
  const baseTitle = document.title;
  let unread = 0;
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      unread = 0;
      document.title = baseTitle;
    }
  });
  return (alert) => {
    list.prepend(element('li', { class: 'alert' }, ...window.rats.alertContent(alert)));
    while (list.children.length > MAX_ALERTS) list.lastElementChild.remove();
    if (document.hidden) {
      unread += 1;
      document.title = `(${unread}) ${baseTitle}`;
    }
  };
}

// The caller's saved searches (each removable; with mail on the server, each one's mail turned
// on and off with ✉) and a form to save the page's filters as one.
async function setUpSearches(filter) {
  const list = document.getElementById('searches');
  const form = document.getElementById('save-search');
  const help = document.getElementById('alerts-help');
  const mails = list.dataset.mails === 'true';
  const said = (answer, done) => {
    help.textContent = answer.ok ? done : `Not done: ${answer.body?.detail ?? answer.status}`;
  };
  const refresh = async () => {
    const answer = await window.rats.api('GET', '/v1/searches');
    if (!answer.ok) return;
    list.replaceChildren(
      ...answer.body.searches.map((search) => {
        const chip = element('span', { class: 'chip' }, search.name, ' ');
        if (mails) {
          const mail = element(
            'button',
            { type: 'button', class: 'link', 'aria-pressed': String(search.email), 'aria-label': `Email new postings of ${search.name}`, title: search.email ? 'Mailed: click to stop' : 'Not mailed: click to mail a digest' },
            '✉',
          );
          mail.addEventListener('click', async () => {
            const changed = await window.rats.api('PATCH', `/v1/searches/${search.id}`, { email: !search.email });
            said(changed, search.email ? `“${search.name}” is no longer mailed.` : `“${search.name}” mails you its new postings.`);
            refresh();
          });
          chip.append(mail, ' ');
        }
        const remove = element('button', { type: 'button', class: 'link', 'aria-label': `Stop alerts for ${search.name}` }, '×');
        remove.addEventListener('click', async () => {
          await window.rats.api('DELETE', `/v1/searches/${search.id}`);
          refresh();
        });
        chip.append(remove);
        return element('li', {}, chip);
      }),
    );
  };
  const byMail = document.getElementById('save-email');
  const address = form.elements.namedItem('address');
  if (byMail) {
    byMail.addEventListener('change', () => {
      document.getElementById('save-address').hidden = !byMail.checked;
      address.required = byMail.checked;
    });
  }
  if (Object.keys(filter).length) {
    form.hidden = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const fields = new FormData(form);
      const name = fields.get('name');
      const email = Boolean(byMail?.checked);
      if (email && address.value !== address.dataset.current) {
        const changed = await window.rats.api('PATCH', '/v1/me', { email: address.value });
        if (!changed.ok) {
          said(changed, '');
          return;
        }
        address.dataset.current = changed.body.user.email;
      }
      const answer = await window.rats.api('POST', '/v1/searches', { name, filter, email });
      said(answer, `Saved “${name}”: its new postings raise alerts here${email ? ' and are mailed to you' : ''}.`);
      if (answer.ok) {
        form.elements.namedItem('name').value = '';
      }
      refresh();
    });
  }
  await refresh();
}

// The page's filters as the API's JSON (numbers as numbers).
function filterOf(query) {
  const filter = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (value === '') continue;
    filter[name] = name === 'salary_min' || name === 'salary_max' ? Number(value) : value;
  }
  return filter;
}

function follow(list, feed, onAlert) {
  const state = document.getElementById('live-state');
  let place = list.dataset.place;
  let attempt = 0;
  let source = null;
  let timer = null;
  const say = (name, text, action) => {
    state.dataset.state = name;
    state.replaceChildren(text);
    if (action) state.append(' ', action);
  };
  const connect = () => {
    clearTimeout(timer);
    say('connecting', 'Connecting…');
    const url = new URL(list.dataset.stream, window.location.origin);
    url.searchParams.set('last_event_id', place);
    source = new EventSource(url);
    source.addEventListener('open', () => {
      attempt = 0;
      say('live', 'Live: new postings appear as they are consumed.');
    });
    source.addEventListener('posting', (event) => {
      place = event.lastEventId;
      feed.add(JSON.parse(event.data));
    });
    const panels = { ingest: showIngest, skills: showSkills, salary: showSalary };
    for (const [name, show] of Object.entries(panels)) {
      source.addEventListener(name, (event) => {
        if (event.lastEventId) place = event.lastEventId;
        show(JSON.parse(event.data));
      });
    }
    source.addEventListener('alert', (event) => onAlert(JSON.parse(event.data)));
    source.addEventListener('gap', (event) => {
      const gap = JSON.parse(event.data);
      say('live', `Live, but some postings could not be sent (${gap.reason}); reload for the newest.`);
    });
    source.addEventListener('error', () => {
      source.close();
      retry();
    });
  };
  const retry = () => {
    attempt += 1;
    const wait = window.rats.backoff(attempt);
    const now = element('button', { type: 'button', class: 'link' }, 'Reconnect now');
    now.addEventListener('click', () => reconnect());
    say('reconnecting', `Disconnected; reconnecting in ${Math.ceil(wait / 1000)} s (attempt ${attempt}).`, now);
    timer = setTimeout(reconnect, wait);
  };
  const reconnect = async () => {
    clearTimeout(timer);
    if (await window.rats.signedIn()) {
      connect();
    } else {
      const again = element('a', { href: `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}` }, 'Sign in again');
      say('signed-out', 'Signed out: the session ended.', again);
    }
  };
  connect();
}

document.addEventListener('DOMContentLoaded', () => {
  const list = document.getElementById('feed');
  if (!list || typeof EventSource === 'undefined') return;
  const initial = JSON.parse(document.getElementById('feed-data').textContent);
  const feed = new VirtualFeed(list, document.getElementById('feed-new'), initial);
  follow(list, feed, setUpAlerts());
  setUpSearches(filterOf(window.location.search)).catch(() => {});
});
