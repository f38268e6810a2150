import { keyForm } from '../http/fields';

/** What a batch record is: each one of the single routes' payloads. */
export const RECORD_KINDS = ['deployment', 'issue', 'close', 'pull_request'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** One record as read from a batch body or an import file, before validation. */
export interface ParsedRecord {
  /** The 1-based line of the record in NDJSON or CSV (absent in a JSON array). */
  line?: number;
  value?: unknown;
  /** Why the record could not be read at all (bad JSON on its line). */
  error?: string;
}

const KIND_WORDS: Record<string, RecordKind> = {
  deployment: 'deployment',
  deployments: 'deployment',
  issue: 'issue',
  issues: 'issue',
  incident: 'issue',
  close: 'close',
  closeissue: 'close',
  issueclose: 'close',
  pullrequest: 'pull_request',
  pullrequests: 'pull_request',
  pr: 'pull_request',
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The kind of a record: its `kind` field (`deployment`, `issue`, `close`, `pull_request`, in any
 * case, with `-`, `_` or spaces), else what its keys say: a `pullRequestKey` makes a pull request,
 * an `issueKey` an issue, anything else a deployment. A close is only ever explicit: an issue
 * missing its title must be refused as one, not taken for a close.
 */
export function kindOf(record: unknown, fallback?: RecordKind): RecordKind | { error: string } {
  if (!isPlainObject(record)) return { error: 'each record must be a JSON object' };
  let sentKind: unknown;
  const forms = new Set<string>();
  for (const [key, value] of Object.entries(record)) {
    const form = keyForm(key);
    forms.add(form);
    if (form === 'kind') sentKind = value;
  }
  if (sentKind !== undefined && sentKind !== null && sentKind !== '') {
    const word = typeof sentKind === 'string' ? KIND_WORDS[sentKind.toLowerCase().replace(/[-_\s]/g, '')] : undefined;
    if (!word) return { error: `kind must be one of ${RECORD_KINDS.join(', ')}` };
    return word;
  }
  if (fallback) return fallback;
  if (forms.has('pullrequestkey')) return 'pull_request';
  if (forms.has('issuekey')) return 'issue';
  return 'deployment';
}

/** One NDJSON line: a record, nothing (a blank line), or why it is not JSON. */
export function parseRecordLine(text: string, line: number): ParsedRecord | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    return { line, value: JSON.parse(trimmed) as unknown };
  } catch (error) {
    return { line, error: `line ${line} is not valid JSON: ${(error as Error).message}` };
  }
}

/**
 * A batch body: a JSON array of records, or NDJSON (one record per line). Only a body that is
 * not even that (a JSON array that does not parse) is refused as a whole; a bad NDJSON line is
 * one refused record.
 */
export function parseRecords(text: string): ParsedRecord[] | { error: string } {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (!Array.isArray(parsed)) return { error: 'the body must be a JSON array or NDJSON' };
      return parsed.map((value) => ({ value }));
    } catch (error) {
      return { error: `the body is not a valid JSON array: ${(error as Error).message}` };
    }
  }
  const records: ParsedRecord[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((text, index) => {
      const record = parseRecordLine(text, index + 1);
      if (record) records.push(record);
    });
  return records;
}
