import { useSyncExternalStore } from 'react';
import type { StoredResult } from '../core/results/storedResult';
import {
  flaggedSlices,
  modelLabel,
  resultTime,
  versionNote,
} from '../core/results/storedResultSummary';
import type { StoredResults } from '../storedResults';
import { Section } from './Section';
import { SeriesVerdict } from './SeriesVerdict';
import { styles } from './styles';

/** The TuberLens result the PACS holds for the displayed series, as stored: never run again here. */
export function StoredResultSection({ storedResults }: { storedResults: StoredResults }) {
  const state = useSyncExternalStore(
    listener => storedResults.subscribe(listener),
    () => storedResults.current
  );
  const { chosen, layer } = state;
  const note = chosen && versionNote(chosen);
  return (
    <Section title="Stored result" testId="tuberlens-stored-result" status={state.phase}>
      {!chosen ? (
        <div
          style={state.phase === 'failed' ? styles.failure : styles.muted}
          data-cy="tuberlens-stored-message"
        >
          {state.message}
        </div>
      ) : (
        <>
          <div data-cy="tuberlens-stored-model">
            {modelLabel(chosen.result.model)}, {resultTime(chosen.result.createdAt)}
          </div>
          {note && (
            <div style={styles.warning} data-cy="tuberlens-stored-version-note">
              {note}
            </div>
          )}
          <SeriesVerdict
            positive={chosen.result.positive}
            probability={chosen.result.probability}
            threshold={chosen.result.threshold}
            thresholdName="the threshold it was stored with"
            withheldReason={chosen.result.withheldReason}
            testId="tuberlens-stored-verdict"
            probabilityTestId="tuberlens-stored-probability"
          />
          <FlaggedSlices result={chosen.result} storedResults={storedResults} />
          <div style={styles.muted} data-cy="tuberlens-stored-origin">
            From the PACS — not re-run.
          </div>
          {layer && (
            <div
              style={layer.phase === 'failed' ? styles.failure : styles.muted}
              data-cy="tuberlens-stored-layer"
              data-status={layer.phase}
            >
              {layer.message}
            </div>
          )}
        </>
      )}
    </Section>
  );
}

function FlaggedSlices({
  result,
  storedResults,
}: {
  result: StoredResult;
  storedResults: StoredResults;
}) {
  const flagged = flaggedSlices(result);
  return (
    <div style={{ ...styles.row, flexWrap: 'wrap' }} data-cy="tuberlens-stored-flagged">
      {flagged.length} of {result.slices.length} slices flagged
      {flagged.length > 0 && ':'}
      {flagged.map(slice => (
        <button
          key={slice.sopInstanceUID}
          type="button"
          data-cy="tuberlens-stored-slice"
          style={styles.linkButton}
          title={`Show this slice: probability ${slice.probability.toFixed(2)}`}
          onClick={() => storedResults.showSlice(slice.sopInstanceUID)}
        >
          {slice.instanceNumber ?? `#${result.slices.indexOf(slice) + 1}`}
        </button>
      ))}
    </div>
  );
}
