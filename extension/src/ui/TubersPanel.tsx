import { useEffect, useState, useSyncExternalStore } from 'react';
import { cohortUrl } from '../appUrls';
import type { ModelAvailability } from '../core/modelAvailability';
import { SERIES_VERDICT_CONTRASTS } from '../core/operatingPoint';
import { classifySeries, type SeriesClassification } from '../core/seriesClassification';
import type { DetectionController, DetectionState } from '../detectionController';
import { getDisplayedSeries, onDisplayedSeriesChange } from '../displayedSeries';
import { seriesAttributesOf } from '../hangingProtocolModule';
import type { ModelStatus } from '../modelStatus';
import type { DisplaySet, Services } from '../ohif/types';
import type { SegExport } from '../segExport';
import type { StoredResults } from '../storedResults';
import { DetectionSection, useDetectionState } from './DetectionSection';
import { Section } from './Section';
import { StoredResultSection } from './StoredResultSection';
import { styles } from './styles';

export interface TubersPanelProps {
  services: Services;
  modelStatus: ModelStatus;
  detection: DetectionController;
  segExport: SegExport;
  storedResults: StoredResults;
}

export const INTENDED_USE =
  'Research use only. TuberLens is not a medical device and must not be used for diagnosis or treatment decisions.';

export function TubersPanel({
  services,
  modelStatus,
  detection,
  segExport,
  storedResults,
}: TubersPanelProps) {
  const availability = useSyncExternalStore(
    listener => modelStatus.subscribe(listener),
    () => modelStatus.current
  );
  const series = useDisplayedSeries(services);
  const detectionState = useDetectionState(detection);
  useEffect(() => void modelStatus.check(), [modelStatus]);

  return (
    <div style={styles.panel} data-cy="tuberlens-panel-content">
      <div style={{ ...styles.row, justifyContent: 'space-between', marginTop: 0 }}>
        <h2 style={styles.title}>Tuber detection</h2>
        <a
          href={cohortUrl()}
          style={styles.link}
          data-cy="tuberlens-cohort-link"
          title="Every study of the PACS with its stored TuberLens result"
        >
          Cohort
        </a>
      </div>
      <ModelSection availability={availability} model={detectionState.model} />
      <SeriesSection series={series} />
      <StoredResultSection storedResults={storedResults} />
      <DetectionSection
        detection={detection}
        segExport={segExport}
        availability={availability}
        displaySetInstanceUID={series?.displaySetInstanceUID}
      />
      <p style={styles.intendedUse} data-cy="tuberlens-intended-use">
        {INTENDED_USE}
      </p>
    </div>
  );
}

function useDisplayedSeries(services: Services): DisplaySet | undefined {
  const [series, setSeries] = useState(() => getDisplayedSeries(services));
  useEffect(() => {
    const update = () => setSeries(getDisplayedSeries(services));
    update();
    return onDisplayedSeriesChange(services, update);
  }, [services]);
  return series;
}

function ModelSection({
  availability,
  model,
}: {
  availability: ModelAvailability;
  model: DetectionState['model'];
}) {
  switch (availability.state) {
    case 'checking':
      return (
        <Section title="Model" testId="tuberlens-model-status" status="checking">
          Checking for a tuber model…
        </Section>
      );
    case 'missing':
      return (
        <Section title="Model" testId="tuberlens-model-status" status="missing">
          {availability.message} Nothing is run and no result is shown until a model is installed.
        </Section>
      );
    case 'invalid':
      return (
        <Section title="Model" testId="tuberlens-model-status" status="invalid">
          {availability.message} Detection is disabled.
        </Section>
      );
    case 'available':
      return (
        <Section title="Model" testId="tuberlens-model-status" status="available">
          <div data-cy="tuberlens-model-name">
            {availability.card.name} {availability.card.version}
          </div>
          <div style={styles.muted} data-cy="tuberlens-model-backend">
            {model
              ? `Runs on ${model.backend}; ${cardThresholds(model)} (model card).`
              : 'Loads on the first detection, in this browser: no image leaves it.'}
          </div>
          {model?.backendNote && (
            <div style={styles.muted} data-cy="tuberlens-model-backend-note">
              {model.backendNote}
            </div>
          )}
        </Section>
      );
  }
}

/** E.g. "FLAIR series threshold 0.62, slice threshold 0.29"; "threshold 0.50" for a card with one. */
function cardThresholds({ threshold, seriesThresholds }: NonNullable<DetectionState['model']>) {
  if (!seriesThresholds) return `threshold ${threshold.toFixed(2)}`;
  const series = SERIES_VERDICT_CONTRASTS.flatMap(contrast => {
    const seriesThreshold = seriesThresholds[contrast];
    return seriesThreshold === undefined
      ? []
      : [`${contrast} series threshold ${seriesThreshold.toFixed(2)}`];
  });
  return [...series, `slice threshold ${threshold.toFixed(2)}`].join(', ');
}

function SeriesSection({ series }: { series: DisplaySet | undefined }) {
  if (!series) {
    return (
      <Section title="Displayed series" testId="tuberlens-series" status="none">
        No series is displayed.
      </Section>
    );
  }
  const classification = classifySeries(seriesAttributesOf(series));
  const warnings = inputWarnings(classification, series);
  return (
    <Section
      title="Displayed series"
      testId="tuberlens-series"
      status={classification.suitable ? 'suitable' : 'unsuitable'}
    >
      <div data-cy="tuberlens-series-description">
        {series.SeriesDescription || '(no description)'}
      </div>
      <div style={styles.muted} data-cy="tuberlens-series-classification">
        {series.Modality ?? '?'} ·{' '}
        {classification.contrast === 'other' ? 'not T2/FLAIR' : classification.contrast} ·{' '}
        {classification.plane}
      </div>
      {warnings.map(warning => (
        <div key={warning} style={styles.warning} data-cy="tuberlens-series-warning">
          ⚠ {warning}
        </div>
      ))}
    </Section>
  );
}

/** Why a series is not what the detector was made for; shown, never hidden. */
export function inputWarnings(classification: SeriesClassification, series: DisplaySet): string[] {
  const warnings: string[] = [];
  const modality = series.Modality ?? series.instances?.[0]?.Modality;
  if (modality !== 'MR')
    warnings.push(`Not MR (modality ${modality ?? 'unknown'}): the model is for MR only.`);
  else if (classification.contrast === 'other')
    warnings.push('Not T2 or FLAIR by its description or timings.');
  if (classification.plane !== 'axial')
    warnings.push(`Not axial (plane: ${classification.plane}).`);
  return warnings;
}
