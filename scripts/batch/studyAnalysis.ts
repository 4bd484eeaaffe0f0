/**
 * One study of a batch: its result read back from the PACS when this model version stored one, else its
 * series chosen, retrieved, analysed and (with --store) stored as a SEG and an SR, then its CSV row.
 */
import {
  numberValue,
  stringValue,
  type DicomJson,
} from '../../extension/src/core/dicomweb/dicomJson';
import type { DicomwebClient } from '../../extension/src/core/dicomweb/dicomwebClient';
import { operatingPoint } from '../../extension/src/core/operatingPoint';
import {
  emptyResultRow,
  resultColumns,
  type ResultRow,
} from '../../extension/src/core/results/resultsCsv';
import type { StoredResult } from '../../extension/src/core/results/storedResult';
import { findStoredResults } from '../../extension/src/core/results/storedResultSearch';
import { decideAnalysedSeries } from '../../extension/src/core/seriesReport';
import { heatOnImage, regionMask, sliceHeat } from '../../extension/src/core/tuberRegions';
import { detectSlices, DicomSeriesReader, type Detector, type Slice } from '../predict';
import { derivedUids } from './derivedObjects';
import { regionsSegBytes } from './regionsSeg';
import { resultSrBytes } from './resultSr';
import { chooseSeries, mrSeriesOf, noSeriesMessage, type SeriesCandidate } from './seriesChoice';

export interface BatchContext {
  client: DicomwebClient;
  detector: Detector;
  /** Whether results are stored in the PACS. */
  store: boolean;
}

/** A study to analyse, and its QIDO-RS record where the study list gave it. */
export interface StudyEntry {
  studyInstanceUID: string;
  record?: DicomJson;
}

const TAG = {
  PatientID: '00100020',
  StudyDate: '00080020',
  StudyDescription: '00081030',
  SOPInstanceUID: '00080018',
  InstanceNumber: '00200013',
} as const;

/** QIDO-RS leaves Study Description out of a study's attributes unless asked for it. */
export const STUDY_QUERY_FIELDS = { includefield: '00081030' };

/** The study's CSV row; never throws: a study that fails is a `failed` row with the reason. */
export async function analyseStudy(context: BatchContext, study: StudyEntry): Promise<ResultRow> {
  let row = emptyRow(context, study);
  try {
    const record = study.record ?? (await studyRecord(context.client, study.studyInstanceUID));
    row = { ...row, ...studyColumns(record) };
    const stored = await storedResultOf(context, study.studyInstanceUID);
    if (stored) return { ...row, ...resultColumns(stored, 'already-stored') };
    const candidates = await mrSeriesOf(context.client, study.studyInstanceUID);
    const series = chooseSeries(candidates);
    if (!series) return { ...row, status: 'no-series', message: noSeriesMessage(candidates) };
    row = { ...row, ...seriesColumns(series) };
    const slices = await retrieveSlices(context.client, study.studyInstanceUID, series);
    const { result, masks } = await analyse(
      context.detector,
      study.studyInstanceUID,
      series,
      slices
    );
    if (!context.store) return { ...row, ...resultColumns(result, 'analysed') };
    await storeResult(context.client, result, slices, masks);
    return { ...row, ...resultColumns(result, 'stored') };
  } catch (error) {
    return {
      ...row,
      status: 'failed',
      message: error instanceof Error ? error.message : String(error),
    };
  }
}

function emptyRow({ detector }: BatchContext, { studyInstanceUID }: StudyEntry): ResultRow {
  return {
    ...emptyResultRow(studyInstanceUID, 'failed'),
    modelName: detector.card.name,
    modelVersion: detector.card.version,
    processedAt: new Date().toISOString(),
  };
}

async function studyRecord(client: DicomwebClient, studyInstanceUID: string): Promise<DicomJson> {
  const [record] = await client.searchStudies({
    StudyInstanceUID: studyInstanceUID,
    ...STUDY_QUERY_FIELDS,
  });
  if (!record) throw new Error('the PACS has no such study');
  return record;
}

function studyColumns(record: DicomJson): Partial<ResultRow> {
  return {
    patientId: stringValue(record, TAG.PatientID) ?? '',
    studyDate: stringValue(record, TAG.StudyDate) ?? '',
    studyDescription: stringValue(record, TAG.StudyDescription) ?? '',
  };
}

function seriesColumns(series: SeriesCandidate): Partial<ResultRow> {
  return {
    seriesInstanceUID: series.seriesInstanceUID,
    seriesDescription: series.seriesDescription,
    contrast: series.contrast === 'other' ? undefined : series.contrast,
  };
}

/** This model version's result for the study, if the PACS holds one. */
async function storedResultOf(
  { client, detector }: BatchContext,
  studyInstanceUID: string
): Promise<StoredResult | undefined> {
  const { results } = await findStoredResults(client, studyInstanceUID);
  const { name, version } = detector.card;
  return results.find(result => result.model.name === name && result.model.version === version);
}

/**
 * Every image of the series as a slice, in order; fails unless every image the PACS holds could be
 * read, so that no probability is ever reported for part of a series.
 */
async function retrieveSlices(
  client: DicomwebClient,
  studyInstanceUID: string,
  series: SeriesCandidate
): Promise<Slice[]> {
  const files = await client.retrieveSeries(studyInstanceUID, series.seriesInstanceUID);
  const reader = new DicomSeriesReader();
  files.forEach(file => reader.add(file));
  const [input, ...others] = reader.series();
  if (!input || others.length > 0 || input.seriesInstanceUID !== series.seriesInstanceUID)
    throw new Error(`the PACS did not send series ${series.seriesInstanceUID} alone`);
  if (input.skipped) throw new Error(input.skipped);
  if (input.unreadable.length > 0) {
    throw new Error(
      `${input.unreadable.length} of ${files.length} images could not be read (${input.unreadable[0]})`
    );
  }
  const expected = series.instances ?? input.slices.length;
  if (input.slices.length !== expected || files.length !== expected) {
    throw new Error(
      `the PACS sent ${files.length} files, ${input.slices.length} readable images, of the series' ${expected}`
    );
  }
  return input.slices;
}

/**
 * The series' result at its contrast's operating point (no verdict, with the reason, where the model
 * is not validated for the contrast) and each slice's tuber regions, made as the viewer makes them.
 */
async function analyse(
  detector: Detector,
  studyInstanceUID: string,
  series: SeriesCandidate,
  slices: Slice[]
): Promise<{ result: StoredResult; masks: Uint8Array[] }> {
  const { probabilities, gradCams } = await detectSlices(detector, slices);
  const decision = decideAnalysedSeries(
    probabilities,
    operatingPoint(detector.card, series.contrast)
  );
  const { name, version } = detector.card;
  const model = { name, version, sha256: detector.sha256 };
  const masks = slices.map((slice, n) =>
    regionMask(
      heatOnImage(sliceHeat(gradCams[n], probabilities[n], slice)),
      probabilities[n],
      decision.threshold
    )
  );
  const sr = derivedUids('sr', series.seriesInstanceUID, model);
  const seg = derivedUids('seg', series.seriesInstanceUID, model);
  const result: StoredResult = {
    studyInstanceUID,
    seriesInstanceUID: series.seriesInstanceUID,
    seriesDescription: series.seriesDescription,
    ...(series.contrast === 'other' ? {} : { contrast: series.contrast }),
    model,
    threshold: decision.threshold,
    probability: decision.probability,
    positive: decision.positive,
    ...(decision.positive === null ? { withheldReason: decision.withheldReason } : {}),
    slices: slices.map((slice, n) => {
      const metadata = sourceOf(slice);
      const instanceNumber = numberValue(metadata, TAG.InstanceNumber);
      return {
        sopInstanceUID: stringValue(metadata, TAG.SOPInstanceUID) ?? '',
        ...(instanceNumber === undefined ? {} : { instanceNumber }),
        probability: probabilities[n],
      };
    }),
    createdAt: new Date().toISOString(),
    srSeriesInstanceUID: sr.seriesInstanceUID,
    srSopInstanceUID: sr.sopInstanceUID,
    segSeriesInstanceUID: seg.seriesInstanceUID,
    segSopInstanceUID: seg.sopInstanceUID,
  };
  return { result, masks };
}

/**
 * The SEG and the SR in one STOW-RS request, the SR last: a study counts as done once its SR is in the
 * PACS, and the PACS keeps one copy of an instance it is sent twice, so a store cut short and made
 * again leaves each object exactly once.
 */
async function storeResult(
  client: DicomwebClient,
  result: StoredResult,
  slices: Slice[],
  masks: Uint8Array[]
): Promise<void> {
  const seg = regionsSegBytes({
    model: result.model,
    threshold: result.threshold,
    createdAt: new Date(result.createdAt),
    uids: {
      seriesInstanceUID: result.segSeriesInstanceUID,
      sopInstanceUID: result.segSopInstanceUID,
    },
    slices: slices.map((slice, n) => ({ metadata: sourceOf(slice), mask: masks[n] })),
  });
  await client.store([seg, resultSrBytes(result, sourceOf(slices[0]))]);
  // Some PACS acknowledge what a filter of theirs then discards.
  const held = await client.searchInstances(result.studyInstanceUID, result.srSeriesInstanceUID, {
    SOPInstanceUID: result.srSopInstanceUID,
  });
  if (held.length === 0)
    throw new Error('the PACS acknowledged the store but does not hold the SR');
}

function sourceOf(slice: Slice): DicomJson {
  if (!slice.metadata) throw new Error('a slice read from DICOM has no attributes');
  return slice.metadata;
}
