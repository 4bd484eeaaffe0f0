import {
  useEffect,
  useState,
  useSyncExternalStore,
  type CSSProperties,
  type ReactNode,
} from 'react';
import type { ModelAvailability } from '../core/modelAvailability';
import { classifySeries, type SeriesClassification } from '../core/seriesClassification';
import { getDisplayedSeries, onDisplayedSeriesChange } from '../displayedSeries';
import { seriesAttributesOf } from '../hangingProtocolModule';
import type { ModelStatus } from '../modelStatus';
import type { DisplaySet, Services } from '../ohif/types';
import { DETECT_HOTKEY } from '../id';

export interface TubersPanelProps {
  services: Services;
  modelStatus: ModelStatus;
}

export const INTENDED_USE =
  'Research use only. TuberLens is not a medical device and must not be used for diagnosis or treatment decisions.';

export function TubersPanel({ services, modelStatus }: TubersPanelProps) {
  const availability = useSyncExternalStore(
    listener => modelStatus.subscribe(listener),
    () => modelStatus.current
  );
  const series = useDisplayedSeries(services);
  useEffect(() => void modelStatus.check(), [modelStatus]);

  return (
    <div style={styles.panel} data-cy="tuberlens-panel-content">
      <h2 style={styles.title}>Tuber detection</h2>
      <ModelSection availability={availability} />
      <SeriesSection series={series} />
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

function ModelSection({ availability }: { availability: ModelAvailability }) {
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
          {availability.card.name} {availability.card.version} is installed, but this TuberLens
          build has no detection engine yet, so nothing is run.
        </Section>
      );
  }
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
      <div style={styles.muted}>
        Press <kbd>{DETECT_HOTKEY.toUpperCase()}</kbd> or “Detect tubers” to run detection on this
        series.
      </div>
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

function Section({
  title,
  testId,
  status,
  children,
}: {
  title: string;
  testId: string;
  status: string;
  children: ReactNode;
}) {
  return (
    <section style={styles.section} data-cy={testId} data-status={status}>
      <h3 style={styles.sectionTitle}>{title}</h3>
      {children}
    </section>
  );
}

const styles: Record<string, CSSProperties> = {
  panel: {
    padding: '12px',
    color: '#d8dde6',
    fontSize: '13px',
    lineHeight: 1.45,
    display: 'flex',
    flexDirection: 'column',
    gap: '12px',
  },
  title: { fontSize: '15px', fontWeight: 600, color: '#5acce6', margin: 0 },
  section: { background: 'rgba(255,255,255,0.04)', borderRadius: '6px', padding: '8px 10px' },
  sectionTitle: {
    fontSize: '12px',
    textTransform: 'uppercase',
    letterSpacing: '0.05em',
    color: '#9aa4b5',
    margin: '0 0 4px',
  },
  muted: { color: '#9aa4b5', marginTop: '4px' },
  warning: { color: '#f5c451', marginTop: '4px' },
  intendedUse: { color: '#9aa4b5', fontSize: '11px', margin: 0 },
};
