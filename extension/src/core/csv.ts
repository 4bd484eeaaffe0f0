/**
 * RFC 4180 CSV, for files the browser and Node both read and write: fields holding a comma, a quote or a
 * line break are quoted, quotes doubled. Framework-free.
 */

/** A CSV file that cannot be read, or whose content is not what its reader expects. */
export class CsvError extends Error {}

/** One CSV record, quoted where needed, ending with a line feed. */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map(quoteIfNeeded).join(',')}\n`;
}

function quoteIfNeeded(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/**
 * The records of a CSV text, each an array of fields. Accepts LF and CRLF line ends and a leading byte
 * order mark; blank lines are skipped.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let position = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    record.push(field);
    if (record.length > 1 || record[0] !== '' || quoted) records.push(record);
    record = [];
    field = '';
    quoted = false;
  };
  while (position < text.length) {
    const char = text[position];
    if (char === '"' && field === '' && !quoted) {
      const close = closingQuote(text, position, records.length + 1);
      field = text.slice(position + 1, close).replaceAll('""', '"');
      quoted = true;
      position = close + 1;
      if (!/^(,|\r?\n|$)/.test(text.slice(position, position + 2)))
        throw new CsvError(`row ${records.length + 1}: text after a closing quote`);
    } else if (char === ',') {
      record.push(field);
      field = '';
      quoted = false;
      position++;
    } else if (char === '\n' || (char === '\r' && text[position + 1] === '\n')) {
      endRecord();
      position += char === '\r' ? 2 : 1;
    } else if (char === '"') {
      throw new CsvError(`row ${records.length + 1}: a quote inside an unquoted field`);
    } else {
      field += char;
      position++;
    }
  }
  if (field !== '' || record.length > 0 || quoted) endRecord();
  return records;
}

/** The index of the quote closing the quoted field that opens at `open`. */
function closingQuote(text: string, open: number, rowNumber: number): number {
  for (let position = open + 1; position < text.length; position++) {
    if (text[position] !== '"') continue;
    if (text[position + 1] !== '"') return position;
    position++;
  }
  throw new CsvError(`row ${rowNumber}: a quoted field is never closed`);
}
