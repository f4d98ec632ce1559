// The script of every page, kept small: it shows the search box (whose code loads on first use),
// carries the section along when switching versions, and explains an anchor this page lacks.
// Every page reads and navigates without it.

const root = document.body.dataset.root ?? '';
const version = document.body.dataset.version;

function setUpSearch(form) {
  const input = form.querySelector('input');
  let loading;
  const load = () =>
    (loading ??= import('./search.js')
      .then(({ attachSearch }) => attachSearch(form, { root }))
      .catch((error) => {
        loading = undefined;
        throw error;
      }));
  form.hidden = false;
  const start = () => void load().catch((error) => console.error(`search: ${error.message}`));
  input.addEventListener('focus', start, { once: true });
  input.addEventListener('input', start, { once: true });
  form.addEventListener('submit', (event) => event.preventDefault());
}

// A link to the same page in another version takes the reader's section along.
function keepAnchor() {
  const here = location.pathname.split('/').pop() || 'index.html';
  const update = () => {
    for (const link of document.querySelectorAll('.version-switch a, a.keep-anchor')) {
      const there = new URL(link.href).pathname.split('/').pop();
      if (here === there) link.href = link.href.split('#')[0] + location.hash;
    }
  };
  update();
  addEventListener('hashchange', update);
}

// The anchor is not on this page: go to the page of this version that has it (a name typed
// after /latest/#), or say which versions have it.
async function explainMissingAnchor() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id || !version || document.getElementById(id)) return;
  const response = await fetch(`${root}anchors.json`);
  if (!response.ok) return;
  const { versions, pages, ids } = await response.json();
  const at = ids[id];
  const mine = versions.indexOf(version);
  const page = at && mine >= 0 && at[mine] >= 0 ? pages[version][at[mine]] : undefined;
  if (page) {
    location.replace(`${page}#${encodeURIComponent(id)}`);
    return;
  }
  const have = at ? versions.filter((_, i) => at[i] >= 0) : [];
  const label = (slug) => (slug === 'latest' ? 'the draft' : slug);
  let why = '';
  if (have.length > 0) {
    const later = have.filter((v) => versions.indexOf(v) > mine);
    const earlier = have.filter((v) => versions.indexOf(v) < mine);
    if (later.length > 0 && earlier.length === 0) why = `: it was added in ${label(later[0])}`;
    else if (earlier.length > 0 && later.length === 0)
      why = `: it was removed in ${label(versions[versions.indexOf(earlier.at(-1)) + 1])}`;
    else why = `; it is in ${have.map(label).join(', ')}`;
  }
  const notice = document.createElement('p');
  notice.className = 'missing-notice';
  notice.setAttribute('role', 'status');
  notice.textContent = `This version (${label(version)}) has no section “${id}”${why}.`;
  if (have.length > 0) {
    const newest = have.at(-1);
    const link = document.createElement('a');
    link.href = `${root}${newest}/${pages[newest][at[versions.indexOf(newest)]]}#${encodeURIComponent(id)}`;
    link.textContent = `Read it in ${label(newest)}`;
    notice.append(' ', link, '.');
  }
  document.querySelector('main')?.prepend(notice);
}

const form = document.querySelector('form.search');
if (form) setUpSearch(form);
keepAnchor();
explainMissingAnchor().catch(() => {});
addEventListener('hashchange', () => explainMissingAnchor().catch(() => {}));
