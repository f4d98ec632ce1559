// The only script of the site: search (over an index built at build time) and keeping the
// anchor when switching versions. Every page reads and navigates without it.
import MiniSearch from './minisearch.js';

const SEARCH_OPTIONS = { prefix: true, fuzzy: 0.15, boost: { name: 4, aliases: 2 } };
const MAX_RESULTS = 12;

function setUpSearch(form) {
  const input = form.querySelector('input');
  const list = form.querySelector('.search-results');
  const root = document.body.dataset.root ?? '';
  let index;
  let loading;
  let selected = -1;

  const load = () =>
    (loading ??= fetch(form.dataset.index)
      .then((response) => {
        if (!response.ok) throw new Error(`search index: HTTP ${response.status}`);
        return response.json();
      })
      .then((data) => {
        index = MiniSearch.loadJS(data.index, { fields: data.fields, storeFields: data.storeFields });
      }));

  const links = () => [...list.querySelectorAll('a')];
  const select = (i) => {
    const all = links();
    selected = Math.max(-1, Math.min(i, all.length - 1));
    all.forEach((a, j) => a.setAttribute('aria-selected', String(j === selected)));
  };
  const close = () => {
    list.hidden = true;
    selected = -1;
  };

  const show = (query) => {
    list.replaceChildren();
    selected = -1;
    if (!query.trim()) return close();
    let results = index.search(query, { ...SEARCH_OPTIONS, combineWith: 'AND' });
    if (results.length === 0) results = index.search(query, SEARCH_OPTIONS);
    for (const result of results.slice(0, MAX_RESULTS)) {
      const a = document.createElement('a');
      a.href = root + result.url;
      const name = document.createElement('span');
      name.className = 'result-name';
      name.textContent = result.name;
      const kind = document.createElement('span');
      kind.className = 'result-kind';
      kind.textContent = `${result.kind} · ${result.detail}`;
      a.append(name, kind);
      a.addEventListener('click', close);
      const li = document.createElement('li');
      li.append(a);
      list.append(li);
    }
    if (results.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = 'No match.';
      list.append(li);
    }
    list.hidden = false;
  };

  form.hidden = false;
  input.addEventListener('focus', () => void load().catch(() => {}));
  input.addEventListener('input', () => {
    load().then(
      () => show(input.value),
      (error) => {
        list.replaceChildren(
          Object.assign(document.createElement('li'), { className: 'empty', textContent: String(error.message) }),
        );
        list.hidden = false;
      },
    );
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') select(selected + 1);
    else if (event.key === 'ArrowUp') select(selected - 1);
    else if (event.key === 'Escape') close();
    else return;
    event.preventDefault();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const target = links()[Math.max(0, selected)];
    if (target) {
      close();
      target.click();
    }
  });
  document.addEventListener('click', (event) => {
    if (!form.contains(event.target)) close();
  });
}

// A version link goes to the same chapter; carry the section the reader is at along.
function keepAnchorOnVersionSwitch() {
  for (const link of document.querySelectorAll('.version-switch a')) {
    link.addEventListener('click', () => {
      const here = location.pathname.split('/').pop() || 'index.html';
      const there = new URL(link.href).pathname.split('/').pop();
      if (location.hash && here === there) link.href = link.href.split('#')[0] + location.hash;
    });
  }
}

const form = document.querySelector('form.search');
if (form) setUpSearch(form);
keepAnchorOnVersionSwitch();
