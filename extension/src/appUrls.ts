import { COHORT_PATH, MODE_ID } from './id';

/** An address of the viewer app, below its router's base (window.config.routerBasename). */
function appUrl(path: string): string {
  const basename = (window as { config?: { routerBasename?: string } }).config?.routerBasename;
  return `${(basename || '/').replace(/\/+$/, '')}${path}`;
}

export const cohortUrl = () => appUrl(COHORT_PATH);

/** A study opened in the TuberLens mode. */
export const studyUrl = (studyInstanceUID: string) =>
  appUrl(`/${MODE_ID}?StudyInstanceUIDs=${encodeURIComponent(studyInstanceUID)}`);

export const studyListUrl = () => appUrl('/');
