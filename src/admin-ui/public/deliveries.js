// The deliveries panel of the admin page: a webhook's latest deliveries from the raw event log,
// with their outcome and cause, the body on click, and a replay button for refused ones. Its own
// module: app.js calls `loadDeliveries` when a webhook's details load. Data goes in with
// textContent only, never as HTML.

import { el } from './dom.js';

const LATEST = 20;
const opened = new Set();

/** The panel inside the details section, created on first use. */
function panel() {
  let section = document.getElementById('deliveries');
  if (section) return section;
  section = el(
    'section',
    { id: 'deliveries', class: 'deliveries', 'aria-labelledby': 'deliveries-title' },
    el('h3', { id: 'deliveries-title', text: 'Latest deliveries' }),
    el('p', { id: 'deliveries-status', class: 'help', role: 'status', 'aria-live': 'polite' }),
    el(
      'table',
      { id: 'deliveries-table', class: 'arrived' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['Received', 'Route', 'Status', 'Outcome and cause', 'Actions'].map((text) =>
            el('th', { scope: 'col', text }),
          ),
        ),
      ),
      el('tbody'),
    ),
  );
  document.getElementById('detail').append(section);
  return section;
}

function causeOf(event) {
  if (event.outcome === 'accepted') return 'accepted';
  const causes = (event.causes || []).map((c) => `${c.field}: ${c.message}`).join('; ');
  return `${event.outcome}: ${causes || event.message || ''}`;
}

function formatTime(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime())
    ? String(value)
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

function prettyBody(text) {
  if (text === null || text === undefined) return '(no body kept)';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Shows a webhook's latest deliveries; `api(method, path)` is the page's API helper. */
export async function loadDeliveries(api, connectionId) {
  const section = panel();
  const status = section.querySelector('#deliveries-status');
  const tbody = section.querySelector('tbody');
  let answer;
  try {
    answer = await api('GET', `/connections/${connectionId}/events?pageSize=${LATEST}`);
  } catch (error) {
    status.textContent = `Could not load the deliveries: ${error.message}`;
    return;
  }
  if (!answer.enabled) {
    status.textContent = 'The event log is turned off on this server.';
    tbody.replaceChildren();
    return;
  }
  status.textContent =
    answer.count === 0
      ? 'No delivery received yet.'
      : `${answer.count} deliveries kept; the latest ${answer.events.length} are shown.`;

  const rows = [];
  for (const event of answer.events) {
    const bodyRow = el('tr', { class: 'delivery-body', hidden: !opened.has(event.id) });
    const bodyCell = el('td', { colspan: 5 });
    bodyRow.append(bodyCell);
    const showBody = async () => {
      if (opened.has(event.id) && !bodyRow.hidden) {
        opened.delete(event.id);
        bodyRow.hidden = true;
        return;
      }
      opened.add(event.id);
      bodyRow.hidden = false;
      bodyCell.replaceChildren(el('p', { class: 'help', text: 'Loading…' }));
      try {
        const full = await api('GET', `/connections/${connectionId}/events/${event.id}`);
        bodyCell.replaceChildren(
          el('p', {
            class: 'help',
            text: `Request id ${full.requestId || '—'}; ${full.bodyBytes ?? 0} bytes; ${full.contentType || 'no content type'}`,
          }),
          el('pre', { class: 'delivery-json', text: prettyBody(full.body) }),
        );
      } catch (error) {
        bodyCell.replaceChildren(el('p', { class: 'error', text: error.message }));
      }
    };
    const actions = el('td', { 'data-label': 'Actions' });
    actions.append(
      el('button', {
        type: 'button',
        text: 'Body',
        'aria-label': `Show the body of delivery ${event.id}`,
        onclick: showBody,
      }),
    );
    if (event.outcome === 'refused') {
      actions.append(
        el('button', {
          type: 'button',
          class: 'primary',
          text: 'Replay',
          'aria-label': `Replay delivery ${event.id}`,
          onclick: async () => {
            try {
              const result = await api('POST', `/connections/${connectionId}/events/${event.id}/replay`);
              status.textContent = `Delivery ${event.id} replayed: ${result && result.success ? 'accepted' : 'answered'}.`;
            } catch (error) {
              status.textContent = `Delivery ${event.id} replayed and refused again: ${error.message}`;
            }
            await loadDeliveries(api, connectionId);
          },
        }),
      );
    }
    const received = el('td', { 'data-label': 'Received' });
    received.append(
      el('time', { datetime: new Date(event.receivedAt).toISOString(), text: formatTime(event.receivedAt) }),
    );
    rows.push(
      el(
        'tr',
        { 'data-event-id': event.id, 'data-outcome': event.outcome },
        received,
        el('td', {
          'data-label': 'Route',
          text: `${event.method} ${event.route}${event.replayOf ? ` (replay of ${event.replayOf})` : ''}`,
        }),
        el('td', { 'data-label': 'Status', text: String(event.status) }),
        el('td', { 'data-label': 'Outcome and cause', class: `outcome-${event.outcome}`, text: causeOf(event) }),
        actions,
      ),
      bodyRow,
    );
  }
  tbody.replaceChildren(...rows);
}
