import { CsvError, csvLine, parseCsv } from '../../../extension/src/core/csv';

describe('parseCsv', () => {
  it('reads quoted fields holding commas, doubled quotes and line breaks', () => {
    const text = 'a,b,c\n"x, y","say ""hi""","two\nlines"\n';
    expect(parseCsv(text)).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'two\nlines'],
    ]);
  });

  it('accepts CRLF line ends, a byte order mark, a missing last line end and empty fields', () => {
    expect(parseCsv('\ufeffa,b\r\n1,\r\n,2')).toEqual([
      ['a', 'b'],
      ['1', ''],
      ['', '2'],
    ]);
  });

  it('keeps a CRLF inside quotes and skips blank lines', () => {
    expect(parseCsv('a\n\n"1\r\n2"\n\n')).toEqual([['a'], ['1\r\n2']]);
  });

  it.each([
    ['a,b\n"open,1\n', 'row 2: a quoted field is never closed'],
    ['a,b\nx"y,1\n', 'row 2: a quote inside an unquoted field'],
    ['a,b\n"x"y,1\n', 'row 2: text after a closing quote'],
  ])('rejects %j', (text, message) => {
    expect(() => parseCsv(text)).toThrow(new CsvError(message));
  });
});

describe('csvLine', () => {
  it('quotes only the fields that need it and ends with a line feed', () => {
    expect(csvLine(['plain', 'a,b', 'say "hi"', 'two\nlines', ''])).toBe(
      'plain,"a,b","say ""hi""","two\nlines",\n'
    );
  });

  it('round-trips through parseCsv', () => {
    const records = [
      ['uid', 'note'],
      ['1.2.3', ' spaced , "quoted"\r\nand more '],
      ['', '""'],
    ];
    expect(parseCsv(records.map(csvLine).join(''))).toEqual(records);
  });
});
