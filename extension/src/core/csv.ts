/** RFC 4180 CSV writing, for files the browser and Node both make. Framework-free. */

/** One CSV record, quoted where needed (a comma, a quote or a line break; quotes doubled), ending with a line feed. */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map(quoteIfNeeded).join(',')}\n`;
}

function quoteIfNeeded(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}
