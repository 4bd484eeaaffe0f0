/** The cohort: every study of the PACS with its stored TuberLens result, if it has one. Framework-free. */
import { stringValue, type DicomJson } from '../dicomweb/dicomJson';
import type { DicomwebClient } from '../dicomweb/dicomwebClient';
import { searchAll } from '../dicomweb/pagedSearch';
import type { StoredResult } from '../results/storedResult';
import { findStoredResults, type ResultArchive } from '../results/storedResultSearch';
import { newestResult, type ChosenResult } from '../results/storedResultSummary';

/** 'no-verdict': a stored result the model gave no verdict for (see operatingPoint.ts). */
export const VERDICTS = ['positive', 'negative', 'no-verdict', 'not-analysed'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface CohortRow {
  studyInstanceUID: string;
  /** DICOM person name, components separated by '^'. */
  patientName: string;
  patientId: string;
  /** YYYYMMDD */
  studyDate: string;
  studyDescription: string;
  /** The study's newest stored result; undefined when it was never analysed. */
  stored?: ChosenResult;
  verdict: Verdict;
}

export interface Cohort {
  rows: CohortRow[];
  /** TuberLens SRs that could not be read, each with why. */
  unreadable: string[];
}

const TAG = {
  StudyInstanceUID: '0020000D',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyDate: '00080020',
  StudyDescription: '00081030',
} as const;

/** Every study (QIDO-RS) with its stored results, found with one more QIDO-RS search over all studies. */
export async function loadCohort(
  archive: ResultArchive & Pick<DicomwebClient, 'searchStudies'>
): Promise<Cohort> {
  const [studies, { results, unreadable }] = await Promise.all([
    // Study Description is no attribute that QIDO-RS returns unasked.
    searchAll(page => archive.searchStudies({ includefield: TAG.StudyDescription, ...page })),
    findStoredResults(archive),
  ]);
  return { rows: cohortRows(studies, results), unreadable };
}

export function cohortRows(studies: readonly DicomJson[], results: readonly StoredResult[]) {
  return studies.map((study): CohortRow => {
    const studyInstanceUID = stringValue(study, TAG.StudyInstanceUID) ?? '';
    const stored = newestResult(
      results.filter(result => result.studyInstanceUID === studyInstanceUID)
    );
    return {
      studyInstanceUID,
      patientName: stringValue(study, TAG.PatientName) ?? '',
      patientId: stringValue(study, TAG.PatientID) ?? '',
      studyDate: stringValue(study, TAG.StudyDate) ?? '',
      studyDescription: stringValue(study, TAG.StudyDescription) ?? '',
      ...(stored ? { stored } : {}),
      verdict: verdictOf(stored?.result),
    };
  });
}

function verdictOf(result: StoredResult | undefined): Verdict {
  if (!result) return 'not-analysed';
  if (result.positive === null) return 'no-verdict';
  return result.positive ? 'positive' : 'negative';
}
