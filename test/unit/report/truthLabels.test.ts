import { CsvError } from '../../../extension/src/core/csv';
import { readTruthLabels } from '../../../scripts/report/truthLabels';
import { labelsCsv } from './fixtures';

describe('readTruthLabels', () => {
  it('accepts 1/0, tsc/control, positive/negative and true/false in any case', () => {
    const text = labelsCsv([
      ['1.1', '1'],
      ['1.2', '0'],
      ['1.3', 'TSC'],
      ['1.4', 'Control'],
      ['1.5', 'positive'],
      ['1.6', 'negative'],
      ['1.7', 'true'],
      ['1.8', ' FALSE '],
    ]);
    expect([...readTruthLabels(text)]).toEqual([
      ['1.1', true],
      ['1.2', false],
      ['1.3', true],
      ['1.4', false],
      ['1.5', true],
      ['1.6', false],
      ['1.7', true],
      ['1.8', false],
    ]);
  });

  it('finds its columns by name', () => {
    expect([...readTruthLabels('label,site,study_instance_uid\ntsc,A,1.1\n')]).toEqual([
      ['1.1', true],
    ]);
  });

  it.each([
    ['uid,label\n1.1,1\n', 'a labels CSV needs the columns study_instance_uid and label'],
    [
      labelsCsv([['1.1', 'maybe']]),
      'row 2: label "maybe" is none of 1/0, tsc/control, positive/negative, true/false',
    ],
    [
      labelsCsv([['1.1', 'constructor']]),
      'row 2: label "constructor" is none of 1/0, tsc/control, positive/negative, true/false',
    ],
    [
      labelsCsv([
        ['1.1', '1'],
        ['1.1', '1'],
      ]),
      'row 3: study 1.1 is labelled twice',
    ],
    [labelsCsv([['', '1']]), 'row 2: study_instance_uid is empty'],
  ])('rejects %j', (text, message) => {
    expect(() => readTruthLabels(text)).toThrow(new CsvError(message));
  });
});
