import { defined, ignored, obj, str, type SourceTranslator } from '../source';

/** The incident events that change what DORA reads; the others (annotated, priority...) are ignored. */
const STATUSES: Record<string, { status: string; resolved: boolean }> = {
  'incident.triggered': { status: 'TODO', resolved: false },
  'incident.acknowledged': { status: 'IN_PROGRESS', resolved: false },
  'incident.unacknowledged': { status: 'TODO', resolved: false },
  'incident.reopened': { status: 'TODO', resolved: false },
  'incident.resolved': { status: 'DONE', resolved: true },
};

/** PagerDuty webhooks v3 (docs/sources.md). */
export const pagerdutySource: SourceTranslator = {
  name: 'pagerduty',
  title: 'PagerDuty',
  scheme: { kind: 'hmac-sha256', header: 'x-pagerduty-signature', prefix: 'v1=', several: true },
  events: ['incident.triggered', 'incident.acknowledged', 'incident.resolved', 'incident.reopened'],
  // The event's id is the same on every retry of it.
  deliveryIdOf: (_headers, body) => str(obj(body.event).id),
  translate(_headers, body) {
    const event = obj(body.event);
    const type = str(event.event_type) ?? '';
    if (type === 'pagey.ping') {
      return { kind: 'answer', status: 200, message: 'pong: this connection uses incident events' };
    }
    const mapped = STATUSES[type];
    if (!mapped || str(event.resource_type) !== 'incident') {
      return ignored(`PagerDuty event "${type}" is ignored: this connection uses ${this.events.join(', ')}`);
    }
    const incident = obj(event.data);
    const service = obj(incident.service);
    const occurredAt = str(event.occurred_at);
    return {
      kind: 'issue',
      changedAt: occurredAt,
      body: defined({
        issueKey: str(incident.id),
        title: str(incident.title),
        url: str(incident.html_url),
        type: 'INCIDENT',
        status: mapped.status,
        originalStatus: str(incident.status) ?? type.replace('incident.', ''),
        createdDate: str(incident.created_at) ?? occurredAt,
        updatedDate: occurredAt,
        resolutionDate: mapped.resolved ? occurredAt : undefined,
        boardKey: str(service.summary),
        component: str(service.summary),
        urgency: str(incident.urgency),
        priority: str(obj(incident.priority).summary),
        assigneeName: Array.isArray(incident.assignees) ? str(obj(incident.assignees[0]).summary) : undefined,
        assigneeId: Array.isArray(incident.assignees) ? str(obj(incident.assignees[0]).id) : undefined,
      }),
    };
  },
};
