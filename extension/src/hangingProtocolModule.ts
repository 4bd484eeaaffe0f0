import { classifySeries, type SeriesAttributes } from './core/seriesClassification';
import { HANGING_PROTOCOL_ID } from './id';
import type { DisplaySet, HangingProtocolService } from './ohif/types';

export const CONTRAST_ATTRIBUTE = 'tuberlensContrast';
export const PLANE_ATTRIBUTE = 'tuberlensPlane';

/** Attributes of a display set as the series classifier reads them: series-level first, then its first instance. */
export function seriesAttributesOf(displaySet: DisplaySet): SeriesAttributes {
  const instance = displaySet.instances?.[0] ?? displaySet.instance ?? {};
  return {
    ...instance,
    Modality: displaySet.Modality ?? instance.Modality,
    SeriesDescription: displaySet.SeriesDescription ?? instance.SeriesDescription,
  };
}

export function registerSeriesAttributes(hangingProtocolService: HangingProtocolService): void {
  hangingProtocolService.addCustomAttribute(
    CONTRAST_ATTRIBUTE,
    'TuberLens contrast (T2, FLAIR, other)',
    displaySet => classifySeries(seriesAttributesOf(displaySet)).contrast
  );
  hangingProtocolService.addCustomAttribute(
    PLANE_ATTRIBUTE,
    'TuberLens plane',
    displaySet => classifySeries(seriesAttributesOf(displaySet)).plane
  );
}

/** A stack viewport opening at the middle slice, where the brain is, rather than at the vertex. */
const VIEWPORT_OPTIONS = {
  viewportType: 'stack',
  toolGroupId: 'default',
  allowUnmatchedView: true,
  initialImageOptions: { preset: 'middle' },
};

/**
 * One viewport showing the series best suited to tuber detection: an axial FLAIR series, then an
 * axial T2 series, then any T2/FLAIR series, then any axial MR series, then the first MR series. A
 * series chosen in the URL still wins. FLAIR comes first because tubers stand out most on it (dark
 * CSF leaves them the brightest tissue), and the shipped model finds them far better there (see
 * models/tuber-net/report.md); its bonus is smaller than the axial one, so an axial T2 series still
 * beats a sagittal FLAIR.
 */
const protocol = {
  id: HANGING_PROTOCOL_ID,
  name: 'TuberLens: axial FLAIR / T2',
  description: 'Shows the axial FLAIR or T2-weighted series of an MR study',
  protocolMatchingRules: [],
  toolGroupIds: ['default'],
  displaySetSelectors: {
    tuberSeries: {
      allowUnmatchedView: true,
      seriesMatchingRules: [
        {
          attribute: 'numImageFrames',
          constraint: { greaterThan: { value: 0 } },
          weight: 1,
          required: true,
        },
        {
          attribute: 'Modality',
          constraint: { equals: { value: 'MR' } },
          weight: 1,
          required: true,
        },
        { attribute: 'isDisplaySetFromUrl', constraint: { equals: true }, weight: 100 },
        {
          attribute: CONTRAST_ATTRIBUTE,
          constraint: { includes: { value: ['T2', 'FLAIR'] } },
          weight: 20,
        },
        { attribute: PLANE_ATTRIBUTE, constraint: { equals: { value: 'axial' } }, weight: 10 },
        { attribute: CONTRAST_ATTRIBUTE, constraint: { equals: { value: 'FLAIR' } }, weight: 5 },
      ],
    },
  },
  defaultViewport: {
    viewportOptions: VIEWPORT_OPTIONS,
    displaySets: [{ id: 'tuberSeries', matchedDisplaySetsIndex: -1 }],
  },
  stages: [
    {
      id: 'single',
      name: 'Single series',
      viewportStructure: { layoutType: 'grid', properties: { rows: 1, columns: 1 } },
      viewports: [
        {
          viewportOptions: VIEWPORT_OPTIONS,
          displaySets: [{ id: 'tuberSeries' }],
        },
      ],
    },
  ],
};

export function getHangingProtocolModule() {
  return [{ name: HANGING_PROTOCOL_ID, protocol }];
}
