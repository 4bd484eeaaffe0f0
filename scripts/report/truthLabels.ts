/** The truth labels of `tuberlens report --truth`: columns study_instance_uid,label (docs/results-format.md). */
import { CsvError, parseCsv } from '../../extension/src/core/csv';

const LABEL_VALUES = new Map([
  ['1', true],
  ['0', false],
  ['tsc', true],
  ['control', false],
  ['positive', true],
  ['negative', false],
  ['true', true],
  ['false', false],
]);

/** Study Instance UID → whether the study shows tubers. Throws CsvError naming the row. */
export function readTruthLabels(text: string): Map<string, boolean> {
  const [header, ...records] = parseCsv(text);
  if (!header) throw new CsvError('the file is empty: no header line');
  const uidColumn = header.indexOf('study_instance_uid');
  const labelColumn = header.indexOf('label');
  if (uidColumn < 0 || labelColumn < 0)
    throw new CsvError('a labels CSV needs the columns study_instance_uid and label');
  const labels = new Map<string, boolean>();
  records.forEach((record, n) => {
    const rowNumber = n + 2;
    const uid = record[uidColumn] ?? '';
    const label = LABEL_VALUES.get((record[labelColumn] ?? '').trim().toLowerCase());
    if (uid === '') throw new CsvError(`row ${rowNumber}: study_instance_uid is empty`);
    if (label === undefined) {
      throw new CsvError(
        `row ${rowNumber}: label "${record[labelColumn] ?? ''}" is none of 1/0, tsc/control, positive/negative, true/false`
      );
    }
    if (labels.has(uid)) throw new CsvError(`row ${rowNumber}: study ${uid} is labelled twice`);
    labels.set(uid, label);
  });
  return labels;
}
