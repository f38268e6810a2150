import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { parseRecordLine, type ParsedRecord } from '../batch/batch-records';

export type ImportFormat = 'ndjson' | 'json' | 'csv';

/** Bytes of the file read so far, for the progress bar. */
export interface ReadProgress {
  bytes: number;
}

/** The format of a file: by its extension, else a JSON array when it starts with `[`, else NDJSON. */
export async function formatOf(file: string): Promise<ImportFormat> {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(file)) return 'ndjson';
  const stream = createReadStream(file, { start: 0, end: 4095, encoding: 'utf8' });
  let head = '';
  for await (const chunk of stream) head += chunk as string;
  return /^\uFEFF?\s*\[/.test(head) ? 'json' : 'ndjson';
}

function counted(file: string, progress: ReadProgress) {
  const stream = createReadStream(file);
  stream.on('data', (chunk) => {
    progress.bytes += chunk.length;
  });
  return stream;
}

/** NDJSON, one record per line; blank lines are skipped, a line that is not JSON is a refused record. */
async function* ndjson(file: string, progress: ReadProgress): AsyncGenerator<ParsedRecord> {
  const lines = createInterface({ input: counted(file, progress), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    const record = parseRecordLine(line === 1 ? text.replace(/^\uFEFF/, '') : text, line);
    if (record) yield record;
  }
}

/**
 * The elements of a top-level JSON array, one at a time, without holding the file: the text of
 * each element is cut out by tracking nesting and strings, then parsed alone.
 */
async function* jsonArray(file: string, progress: ReadProgress): AsyncGenerator<ParsedRecord> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  let current = '';
  let line = 1;
  let startLine = 1;
  for await (const chunk of counted(file, progress).setEncoding('utf8')) {
    for (const char of chunk as string) {
      if (char === '\n') line += 1;
      if (!started) {
        if (char === '[') started = true;
        else if (!/[\s\uFEFF]/.test(char)) throw new Error('the file is not a JSON array');
        continue;
      }
      if (inString) {
        current += char;
        if (escaped) escaped = false;
        else if (char === '\\') escaped = true;
        else if (char === '"') inString = false;
        continue;
      }
      if (depth === 0 && (char === ',' || char === ']')) {
        if (current.trim() !== '') yield parseElement(current, startLine);
        current = '';
        if (char === ']') return;
        continue;
      }
      if (depth === 0 && current.trim() === '' && !/\s/.test(char)) startLine = line;
      if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth += 1;
      else if (char === '}' || char === ']') depth -= 1;
      current += char;
    }
  }
  if (current.trim() !== '') yield parseElement(current, startLine);
}

function parseElement(text: string, line: number): ParsedRecord {
  try {
    return { line, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { line, error: `the record at line ${line} is not valid JSON: ${(error as Error).message}` };
  }
}

/**
 * CSV with a header row of DevLake's field names (`commit_sha`, `repo_url`, `start_time`... in
 * either naming). An empty cell is an absent field, as `null` is in JSON.
 */
async function* csv(file: string, progress: ReadProgress): AsyncGenerator<ParsedRecord> {
  const parser = counted(file, progress).pipe(
    parseCsv({ columns: true, bom: true, skip_empty_lines: true, info: true, relax_column_count: true }),
  );
  for await (const item of parser) {
    const { record, info } = item as { record: Record<string, string>; info: { lines: number } };
    const value: Record<string, string> = {};
    for (const [key, cell] of Object.entries(record)) if (cell !== '') value[key] = cell;
    yield { line: info.lines, value };
  }
}

/** The records of an import file, streamed. */
export function readRecords(file: string, format: ImportFormat, progress: ReadProgress): AsyncGenerator<ParsedRecord> {
  if (format === 'csv') return csv(file, progress);
  if (format === 'json') return jsonArray(file, progress);
  return ndjson(file, progress);
}
