import { StoredResults } from '../../../extension/src/storedResults';
import {
  FLAIR_SERIES,
  fakeStoredResultHost,
  noResults,
  segDisplaySet,
  storedResult,
  STUDY,
} from './fakeStoredResults';
import { displaySet, mockServices } from './ohifMocks';

const flair = {
  ...displaySet('flair', 'AX FLAIR'),
  StudyInstanceUID: STUDY,
  SeriesInstanceUID: FLAIR_SERIES,
};
const t2 = { ...displaySet('t2', 'AX T2'), StudyInstanceUID: STUDY, SeriesInstanceUID: '1.2.3.2' };
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

function watching(search: Parameters<typeof fakeStoredResultHost>[0], shown = 'flair') {
  const mocks = mockServices([flair, t2], shown);
  const fake = fakeStoredResultHost(search);
  const storedResults = new StoredResults(mocks.services, fake.host);
  const stop = storedResults.watchDisplayedSeries();
  return { ...mocks, ...fake, storedResults, stop };
}

test("shows the displayed series' newest stored result and labels the older model's", async () => {
  const older = storedResult({
    model: { name: 'tuber-net', version: '0.9.0', sha256: '' },
    createdAt: '2026-01-01T00:00:00Z',
  });
  const newest = storedResult({ createdAt: '2026-11-25T00:00:00Z', probability: 0.77 });
  const ofT2 = storedResult({ seriesInstanceUID: '1.2.3.2', createdAt: '2026-12-01T00:00:00Z' });
  const { storedResults } = watching({ results: [older, newest, ofT2], unreadable: [] });
  expect(storedResults.current.phase).toBe('loading');
  await settle();
  expect(storedResults.current).toMatchObject({
    phase: 'found',
    displaySetInstanceUID: 'flair',
    chosen: { result: newest, count: 2, otherModels: ['tuber-net 0.9.0'] },
  });
});

test('shows the stored SEG as a layer once OHIF has made its display set', async () => {
  const result = storedResult();
  const { storedResults, addDisplaySet, shownSegs } = watching({
    results: [result],
    unreadable: [],
  });
  await settle();
  expect(storedResults.current.layer?.phase).toBe('waiting');
  expect(shownSegs).toEqual([]);

  // A SEG of the same series UID that refers to another display set is not this layer.
  addDisplaySet({ ...segDisplaySet(result, 't2'), displaySetInstanceUID: 'seg-other' });
  expect(shownSegs).toEqual([]);
  addDisplaySet(segDisplaySet(result, 'flair'));
  expect(storedResults.current.layer?.phase).toBe('loading');
  await settle();
  expect(shownSegs).toEqual([{ seg: 'seg-1.2.3.91', viewportId: 'default' }]);
  expect(storedResults.current.layer).toEqual({
    phase: 'shown',
    message: 'Its DICOM SEG is shown as the layer “TuberLens regions tuber-net 1.0.0”.',
  });
});

test('a SEG that cannot be shown is reported as such', async () => {
  const result = storedResult();
  const { storedResults, addDisplaySet, host } = watching({ results: [result], unreadable: [] });
  host.showSeg.mockRejectedValueOnce(new Error('SEG reading failed'));
  await settle();
  addDisplaySet(segDisplaySet(result, 'flair'));
  await settle();
  expect(storedResults.current.layer).toEqual({
    phase: 'failed',
    message: 'Its DICOM SEG could not be shown: SEG reading failed',
  });
});

test('asks the PACS once per study, and follows the displayed series', async () => {
  const { storedResults, display, host } = watching({ results: [storedResult()], unreadable: [] });
  await settle();
  display('t2');
  await settle();
  expect(storedResults.current).toMatchObject({ phase: 'none', displaySetInstanceUID: 't2' });
  expect(storedResults.current.message).toBe('The PACS holds no TuberLens result for this series.');
  display('flair');
  await settle();
  expect(storedResults.current.phase).toBe('found');
  expect(host.findResults).toHaveBeenCalledTimes(1);
  expect(host.findResults).toHaveBeenCalledWith(STUDY);
  display(undefined);
  await settle();
  expect(storedResults.current).toEqual({ phase: 'none', message: 'No series is displayed.' });
});

test('a PACS that fails is reported, and asked again for the next series shown', async () => {
  const { storedResults, display, host } = watching(new Error('HTTP 502'));
  await settle();
  expect(storedResults.current).toMatchObject({
    phase: 'failed',
    message: 'The PACS could not be asked for a stored result: HTTP 502',
  });
  display('t2');
  await settle();
  expect(host.findResults).toHaveBeenCalledTimes(2);
});

test('says when SRs of the study could not be read', async () => {
  const { storedResults } = watching({ results: [], unreadable: ['SR series 9: no title'] });
  await settle();
  expect(storedResults.current.message).toBe(
    'The PACS holds no TuberLens result for this series. 1 TuberLens SR(s) of this study could not be read: SR series 9: no title'
  );
});

test('a flagged slice is shown in the active viewport', async () => {
  const { storedResults, host } = watching(noResults());
  await settle();
  storedResults.showSlice(`${FLAIR_SERIES}.3`);
  expect(host.showImage).toHaveBeenCalledWith('default', `flair:${FLAIR_SERIES}.3`);
});

test('stops following when asked, and forgets everything when the study closes', async () => {
  const { storedResults, stop, listenerCount, display } = watching({
    results: [storedResult()],
    unreadable: [],
  });
  await settle();
  stop();
  expect(listenerCount()).toBe(0);
  display('t2');
  await settle();
  expect(storedResults.current.displaySetInstanceUID).toBe('flair');
  storedResults.close();
  expect(storedResults.current).toEqual({ phase: 'none', message: 'No series is displayed.' });
});
