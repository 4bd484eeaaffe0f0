import { BatchInputError, batchCommand } from '../../../scripts/batch/batchCommand';
import {
  chooseSeries,
  noSeriesMessage,
  type SeriesCandidate,
} from '../../../scripts/batch/seriesChoice';

describe('tuberlens batch refuses bad input before it asks the PACS anything', () => {
  const run = (...args: string[]) =>
    batchCommand(
      args,
      () => {},
      () => {}
    );
  const url = 'http://127.0.0.1:9/dicom-web';

  beforeEach(() => {
    delete process.env.TUBERLENS_DICOMWEB_USER;
    delete process.env.TUBERLENS_DICOMWEB_PASSWORD;
  });

  test.each([
    [['--all'], /Give the PACS with --dicomweb/],
    [['--dicomweb', url], /either --study <uid> \(once per study\) or --all/],
    [['--dicomweb', url, '--all', '--study', '1.2.3'], /either --study/],
    [['--dicomweb', 'localhost:8042', '--all'], /must be an http or https URL/],
    [['--dicomweb', 'not a url', '--all'], /must be a URL such as/],
    [
      ['--dicomweb', 'http://u:p@host/dicom-web', '--all'],
      /TUBERLENS_DICOMWEB_PASSWORD .*not in the URL/,
    ],
    [['--dicomweb', url, '--all', '--password', 'p'], /A password without a user/],
    [['--dicomweb', url, '--all', '--concurrency', '0'], /--concurrency must be a whole number/],
  ])('%j', async (args, message) => {
    const error = await run(...args).catch(caught => caught);
    expect(error).toBeInstanceOf(BatchInputError);
    expect(error.message).toMatch(message);
  });
});

describe('the series a batch analyses', () => {
  const series = (
    seriesNumber: number,
    contrast: SeriesCandidate['contrast'],
    plane: SeriesCandidate['plane']
  ): SeriesCandidate => ({
    seriesInstanceUID: `1.2.${seriesNumber}`,
    seriesDescription: `${plane} ${contrast}`,
    seriesNumber,
    contrast,
    plane,
    suitable: contrast !== 'other' && plane === 'axial',
  });

  test('is the axial FLAIR series, of several the first acquired, else the axial T2 one', () => {
    const sagittalFlair = series(1, 'FLAIR', 'sagittal');
    const axialT2 = series(2, 'T2', 'axial');
    const laterFlair = series(5, 'FLAIR', 'axial');
    const earlierFlair = series(4, 'FLAIR', 'axial');
    expect(chooseSeries([sagittalFlair, axialT2, laterFlair, earlierFlair])).toBe(earlierFlair);
    expect(chooseSeries([sagittalFlair, axialT2])).toBe(axialT2);
    expect(chooseSeries([sagittalFlair, series(3, 'other', 'axial')])).toBeUndefined();
  });

  test('when there is none, the message lists what the study has', () => {
    expect(noSeriesMessage([])).toBe('no MR series');
    expect(noSeriesMessage([series(3, 'other', 'axial')])).toBe(
      'no axial T2 or FLAIR MR series: axial other (axial other)'
    );
  });
});
