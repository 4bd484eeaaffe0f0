import { useSyncExternalStore } from 'react';
import type { ModelAvailability } from '../core/modelAvailability';
import { isFlagged, reportCsv, reportJson, seriesDecision } from '../core/seriesReport';
import type { DetectionController, DetectionState, ValidatedSeries } from '../detectionController';
import { DETECT_HOTKEY } from '../id';
import type { SegExport } from '../segExport';
import { downloadText } from './download';
import { LayerControls } from './LayerControls';
import { Section } from './Section';
import { SegControls } from './SegControls';
import { SeriesVerdict } from './SeriesVerdict';
import { SliceStrip } from './SliceStrip';
import { styles } from './styles';

export function useDetectionState(detection: DetectionController): DetectionState {
  return useSyncExternalStore(
    listener => detection.subscribe(listener),
    () => detection.current
  );
}

/** Runs detection on the displayed series and shows its result, or why there is none. */
export function DetectionSection({
  detection,
  segExport,
  availability,
  displaySetInstanceUID,
}: {
  detection: DetectionController;
  segExport: SegExport;
  availability: ModelAvailability;
  displaySetInstanceUID: string | undefined;
}) {
  const state = useDetectionState(detection);
  const shown = state.target && state.target.displaySetInstanceUID === displaySetInstanceUID;
  return (
    <Section title="Detection" testId="tuberlens-detection" status={shown ? state.phase : 'idle'}>
      <RunControls
        detection={detection}
        state={state}
        canRun={availability.state === 'available' && displaySetInstanceUID !== undefined}
      />
      {shown ? (
        <RunView detection={detection} segExport={segExport} state={state} />
      ) : (
        <div style={styles.muted}>
          Press <kbd>{DETECT_HOTKEY.toUpperCase()}</kbd> or “Detect tubers” to run detection on the
          displayed series.
        </div>
      )}
    </Section>
  );
}

function isRunning(state: DetectionState): boolean {
  return state.phase === 'loading' || state.phase === 'running';
}

function RunControls({
  detection,
  state,
  canRun,
}: {
  detection: DetectionController;
  state: DetectionState;
  canRun: boolean;
}) {
  return (
    <div style={styles.row}>
      <button
        type="button"
        data-cy="tuberlens-detect"
        style={canRun ? styles.button : { ...styles.button, ...styles.disabled }}
        disabled={!canRun}
        onClick={() => void detection.detect()}
      >
        Detect tubers
      </button>
      {isRunning(state) && (
        <button
          type="button"
          data-cy="tuberlens-stop"
          style={styles.button}
          onClick={() => detection.stop()}
        >
          Stop
        </button>
      )}
    </div>
  );
}

function RunView({
  detection,
  segExport,
  state,
}: {
  detection: DetectionController;
  segExport: SegExport;
  state: DetectionState;
}) {
  const total = state.slices.length;
  return (
    <>
      {state.phase !== 'complete' && (
        <div
          style={state.phase === 'failed' ? styles.failure : styles.muted}
          data-cy="tuberlens-detection-message"
        >
          {state.message}
        </div>
      )}
      {state.phase !== 'complete' && state.phase !== 'failed' && (
        <>
          <progress
            data-cy="tuberlens-progress"
            style={styles.progress}
            value={state.analysed}
            max={total}
          />
          <div style={styles.muted}>
            {state.analysed} of {total} slices analysed
          </div>
        </>
      )}
      {state.model && state.threshold !== undefined && (
        <Results
          detection={detection}
          segExport={segExport}
          state={state}
          threshold={state.threshold}
        />
      )}
    </>
  );
}

function Results({
  detection,
  segExport,
  state,
  threshold,
}: {
  detection: DetectionController;
  segExport: SegExport;
  state: DetectionState;
  threshold: number;
}) {
  const flagged = state.slices.filter(slice => isFlagged(slice, threshold)).length;
  return (
    <>
      <Verdict state={state} />
      {state.validatedSeries && (
        <ValidatedSeriesOffer detection={detection} series={state.validatedSeries} />
      )}
      <SliceStrip
        slices={state.slices}
        threshold={threshold}
        onSelect={index => detection.showSlice(index)}
      />
      <div style={styles.muted} data-cy="tuberlens-flagged-count">
        {flagged} {flagged === 1 ? 'slice' : 'slices'} flagged at ≥ {threshold.toFixed(2)}; click a
        bar to show its slice.
      </div>
      <ThresholdSlider detection={detection} state={state} threshold={threshold} />
      <LayerControls detection={detection} state={state} />
      {state.phase !== 'failed' && (
        <>
          <Downloads detection={detection} />
          <SegControls segExport={segExport} state={state} />
        </>
      )}
    </>
  );
}

/**
 * Which of the model card's thresholds the series is read at: its contrast's series threshold, the one
 * threshold of a card without series thresholds, or the slice threshold where it gets no verdict.
 */
function operatingThresholdName({ model, target, operatingPoint }: DetectionState): string {
  if (!operatingPoint?.verdict) return "the model card's slice threshold";
  return model?.seriesThresholds && target
    ? `the model card's ${target.contrast} series threshold`
    : "the model card's threshold";
}

/** The verdict at the series' operating point (never at the slider's), for a complete series only. */
function Verdict({ state }: { state: DetectionState }) {
  const decision =
    state.phase === 'complete' && state.operatingPoint
      ? seriesDecision(state.slices, state.operatingPoint)
      : undefined;
  if (!decision) {
    return (
      <div style={styles.muted} data-cy="tuberlens-verdict" data-verdict="none">
        No series verdict until every slice is analysed.
      </div>
    );
  }
  return (
    <SeriesVerdict
      {...decision}
      thresholdName={operatingThresholdName(state)}
      testId="tuberlens-verdict"
      probabilityTestId="tuberlens-series-probability"
    />
  );
}

/** Where the series gets no verdict: one click shows the study's series the model is validated for and runs on it. */
function ValidatedSeriesOffer({
  detection,
  series,
}: {
  detection: DetectionController;
  series: ValidatedSeries;
}) {
  return (
    <div style={styles.row}>
      <button
        type="button"
        data-cy="tuberlens-detect-validated"
        style={styles.button}
        onClick={() => void detection.detectOnSeries(series.displaySetInstanceUID)}
      >
        Detect on the {series.contrast} series “{series.seriesDescription}”
      </button>
    </div>
  );
}

function ThresholdSlider({
  detection,
  state,
  threshold,
}: {
  detection: DetectionController;
  state: DetectionState;
  threshold: number;
}) {
  const resetTo = state.operatingPoint?.threshold;
  return (
    <label style={styles.row}>
      Flag at
      <input
        type="range"
        data-cy="tuberlens-threshold"
        min={0}
        max={1}
        step={0.01}
        value={threshold}
        style={styles.slider}
        onChange={event => detection.setThreshold(Number(event.target.value))}
      />
      {threshold.toFixed(2)}
      {resetTo !== undefined && resetTo !== threshold && (
        <button
          type="button"
          data-cy="tuberlens-threshold-reset"
          style={styles.button}
          title={`Back to ${operatingThresholdName(state)}`}
          onClick={() => detection.setThreshold(resetTo)}
        >
          {resetTo.toFixed(2)}
        </button>
      )}
    </label>
  );
}

function Downloads({ detection }: { detection: DetectionController }) {
  const save = (format: 'csv' | 'json') => {
    const report = detection.report();
    if (!report) return;
    const name = `tuberlens-${report.series.seriesInstanceUID ?? 'series'}.${format}`;
    if (format === 'csv') downloadText(name, reportCsv(report), 'text/csv');
    else downloadText(name, reportJson(report), 'application/json');
  };
  return (
    <div style={styles.row}>
      {(['csv', 'json'] as const).map(format => (
        <button
          key={format}
          type="button"
          data-cy={`tuberlens-download-${format}`}
          style={styles.button}
          onClick={() => save(format)}
        >
          Download {format.toUpperCase()}
        </button>
      ))}
    </div>
  );
}
