// Search over the version's index (built at build time), as a WAI-ARIA combobox: the input owns
// a listbox of results, arrow keys move the active option, Enter follows it, and a live region
// says how many results there are. Bundled with MiniSearch and minified into assets/search.js.
import MiniSearch from 'minisearch';
import { rankExactFirst, SEARCH_OPTIONS } from '../search/ranking.js';

const MAX_RESULTS = 12;

export async function attachSearch(form, { root }) {
  const input = form.querySelector('input');
  const list = form.querySelector('[role="listbox"]');
  const count = form.querySelector('.search-count');
  const response = await fetch(form.dataset.index);
  if (!response.ok) throw new Error(`search index: HTTP ${response.status}`);
  const data = await response.json();
  const index = MiniSearch.loadJS(data.index, { fields: data.fields, storeFields: data.storeFields });
  let active = -1;

  const options = () => [...list.querySelectorAll('[role="option"]')];
  const setActive = (i) => {
    const all = options();
    active = all.length ? (i + all.length) % all.length : -1;
    all.forEach((option, j) => option.setAttribute('aria-selected', String(j === active)));
    const chosen = all[active];
    if (chosen) {
      input.setAttribute('aria-activedescendant', chosen.id);
      chosen.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };
  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const follow = (option) => {
    close();
    location.href = option.dataset.href;
  };

  const show = (query) => {
    list.replaceChildren();
    active = -1;
    if (!query.trim()) {
      count.textContent = '';
      return close();
    }
    const results = rankExactFirst(index, query);
    results.slice(0, MAX_RESULTS).forEach((result, i) => {
      const option = document.createElement('li');
      option.id = `search-option-${i}`;
      option.setAttribute('role', 'option');
      option.setAttribute('aria-selected', 'false');
      option.dataset.href = root + result.url;
      const name = document.createElement('span');
      name.className = 'result-name';
      name.textContent = result.name;
      const kind = document.createElement('span');
      kind.className = 'result-kind';
      kind.textContent = `${result.kind} · ${result.detail}`;
      option.append(name, kind);
      option.addEventListener('click', () => follow(option));
      list.append(option);
    });
    if (results.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = 'No match.';
      list.append(empty);
    }
    count.textContent = results.length === 1 ? '1 result' : `${results.length} results`;
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };

  input.addEventListener('input', () => show(input.value));
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') setActive(active + 1);
    else if (event.key === 'ArrowUp') setActive(active - 1);
    else if (event.key === 'Escape') close();
    else if (event.key === 'Enter') {
      const option = options()[Math.max(0, active)];
      if (option) follow(option);
    } else return;
    event.preventDefault();
  });
  document.addEventListener('click', (event) => {
    if (!form.contains(event.target)) close();
  });
  if (input.value) show(input.value);
}
