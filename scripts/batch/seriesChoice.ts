/**
 * Which series of a study the batch analyses: the axial FLAIR series, else the axial T2 series
 * (docs/results-format.md), classified from the series' QIDO-RS attributes and one instance's.
 */
import {
  numberValue,
  stringValue,
  type DicomJson,
} from '../../extension/src/core/dicomweb/dicomJson';
import type { DicomwebClient } from '../../extension/src/core/dicomweb/dicomwebClient';
import {
  classifySeries,
  type SeriesAttributes,
  type SeriesClassification,
} from '../../extension/src/core/seriesClassification';

export interface SeriesCandidate extends SeriesClassification {
  seriesInstanceUID: string;
  seriesDescription: string;
  seriesNumber?: number;
  /** Number of Series Related Instances, where the PACS says it. */
  instances?: number;
}

const TAG = {
  SeriesInstanceUID: '0020000E',
  SeriesDescription: '0008103E',
  SeriesNumber: '00200011',
  NumberOfSeriesRelatedInstances: '00201209',
} as const;

/** The instance attributes that classify a series, besides its description. */
const CLASSIFYING_TAGS = {
  SequenceName: '00180024',
  ScanningSequence: '00180020',
  RepetitionTime: '00180080',
  EchoTime: '00180081',
  InversionTime: '00180082',
  ImageOrientationPatient: '00200037',
} as const;

/** The study's MR series, each classified by its description and one instance's attributes. */
export async function mrSeriesOf(
  client: DicomwebClient,
  studyInstanceUID: string
): Promise<SeriesCandidate[]> {
  const series = await client.searchSeries(studyInstanceUID, { Modality: 'MR' });
  return Promise.all(series.map(record => classified(client, studyInstanceUID, record)));
}

async function classified(
  client: DicomwebClient,
  studyInstanceUID: string,
  series: DicomJson
): Promise<SeriesCandidate> {
  const seriesInstanceUID = stringValue(series, TAG.SeriesInstanceUID) ?? '';
  const seriesDescription = stringValue(series, TAG.SeriesDescription) ?? '';
  const [instance = {}] = await client.searchInstances(studyInstanceUID, seriesInstanceUID, {
    limit: 1,
    includefield: Object.values(CLASSIFYING_TAGS).join(','),
  });
  const attributes: SeriesAttributes = { Modality: 'MR', SeriesDescription: seriesDescription };
  for (const [keyword, tag] of Object.entries(CLASSIFYING_TAGS)) {
    const values = instance[tag]?.Value;
    if (values?.length)
      Object.assign(attributes, { [keyword]: values.length > 1 ? values : values[0] });
  }
  const seriesNumber = numberValue(series, TAG.SeriesNumber);
  const instances = numberValue(series, TAG.NumberOfSeriesRelatedInstances);
  return {
    ...classifySeries(attributes),
    seriesInstanceUID,
    seriesDescription,
    ...(seriesNumber === undefined ? {} : { seriesNumber }),
    ...(instances === undefined ? {} : { instances }),
  };
}

/** The axial FLAIR series, else the axial T2 one; of several, the one acquired first (by number). */
export function chooseSeries(candidates: readonly SeriesCandidate[]): SeriesCandidate | undefined {
  const byNumber = [...candidates].sort(
    (a, b) =>
      (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity) ||
      a.seriesInstanceUID.localeCompare(b.seriesInstanceUID)
  );
  const axial = (contrast: string) =>
    byNumber.find(series => series.plane === 'axial' && series.contrast === contrast);
  return axial('FLAIR') ?? axial('T2');
}

/** Why no series of the study qualifies, for the CSV's message column. */
export function noSeriesMessage(candidates: readonly SeriesCandidate[]): string {
  if (candidates.length === 0) return 'no MR series';
  const listed = candidates
    .map(
      series =>
        `${series.seriesDescription || series.seriesInstanceUID} (${series.plane} ${series.contrast})`
    )
    .join('; ');
  return `no axial T2 or FLAIR MR series: ${listed}`;
}
