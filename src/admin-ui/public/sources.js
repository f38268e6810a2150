// The sources panel of the admin page: for GitHub, GitLab and PagerDuty, the URL to paste, the
// signature header, the events to tick, and the signing secret, shown once when generated or
// set. Its own module: app.js calls `loadSources` when a webhook's details load. Data goes in
// with textContent only, never as HTML; the secret lives only on screen until the next load.

import { el } from './dom.js';

function panel() {
  let section = document.getElementById('sources');
  if (section) return section;
  section = el(
    'section',
    { id: 'sources', class: 'sources', 'aria-labelledby': 'sources-title' },
    el('h3', { id: 'sources-title', text: 'GitHub, GitLab and PagerDuty' }),
    el('p', { id: 'sources-status', class: 'help', role: 'status', 'aria-live': 'polite' }),
    el('div', { id: 'sources-secret' }),
    el('div', { id: 'sources-list' }),
  );
  document.getElementById('detail').append(section);
  return section;
}

/** Shows a webhook's native sources; `api(method, path, payload)` is the page's API helper. */
export async function loadSources(api, apiBase, connectionId) {
  const section = panel();
  const status = section.querySelector('#sources-status');
  const secretBox = section.querySelector('#sources-secret');
  const list = section.querySelector('#sources-list');
  let answer;
  try {
    answer = await api('GET', `/connections/${connectionId}/sources`);
  } catch (error) {
    status.textContent = `Could not load the sources: ${error.message}`;
    return;
  }
  status.textContent = answer.signingSecretSet
    ? 'A signing secret is set (it is shown only when generated or set).'
    : 'No signing secret yet: generate one, or set the one PagerDuty generated.';

  const showSecret = (secret) => {
    secretBox.replaceChildren(
      el('p', { class: 'help', text: 'The signing secret, shown this once: paste it in the tool now.' }),
      el('code', { id: 'sources-secret-value', text: secret }),
    );
  };
  const own = el('input', { id: 'sources-own-secret', type: 'password', 'aria-label': 'Signing secret from the tool' });
  const setSecret = async (payload) => {
    try {
      const result = await api('POST', `/connections/${connectionId}/sources/signing-secret`, payload);
      showSecret(result.signingSecret);
      status.textContent = 'Signing secret set. The previous one keeps working for 24 hours.';
    } catch (error) {
      status.textContent = `Could not set the secret: ${error.message}`;
    }
  };
  secretBox.replaceChildren(
    el('button', {
      type: 'button',
      id: 'sources-generate',
      text: 'Generate signing secret',
      onclick: () => setSecret({}),
    }),
    own,
    el('button', { type: 'button', text: 'Set this secret', onclick: () => setSecret({ secret: own.value }) }),
  );

  list.replaceChildren(
    ...answer.sources.map((source) =>
      el(
        'div',
        { class: 'source', 'data-source': source.name },
        el('h4', { text: source.title }),
        el('p', {}, 'URL to paste: ', el('code', { text: `${window.location.origin}${apiBase}/${source.path}` })),
        el('p', { class: 'help', text: `Signed with ${source.signatureHeader}: ${source.signature}.` }),
        el('p', { class: 'help', text: `Events to tick: ${source.events.join(', ')}.` }),
      ),
    ),
  );
}
