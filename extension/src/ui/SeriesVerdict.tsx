import { styles } from './styles';

/**
 * A series verdict in words, and the probability against the threshold that decided it; or, where the
 * model gives no verdict for the series (see core/operatingPoint.ts), that reason, shown as a warning and
 * never as a negative.
 */
export function SeriesVerdict({
  positive,
  probability,
  threshold,
  thresholdName,
  withheldReason,
  testId,
  probabilityTestId,
}: {
  /** null: no verdict, for `withheldReason`. */
  positive: boolean | null;
  probability: number;
  threshold: number;
  /** Which threshold it is, e.g. "the model card's FLAIR series threshold". */
  thresholdName: string;
  withheldReason?: string;
  testId: string;
  probabilityTestId: string;
}) {
  if (positive === null) {
    return (
      <div data-cy={testId} data-verdict="withheld">
        <div style={styles.warning}>{withheldReason ?? 'No verdict for this series.'}</div>
        <div style={styles.muted} data-cy={probabilityTestId}>
          Series probability {probability.toFixed(2)}; slices flagged at ≥ {threshold.toFixed(2)},{' '}
          {thresholdName}.
        </div>
      </div>
    );
  }
  const comparison = `${probability.toFixed(2)} ${positive ? '≥' : '<'} ${threshold.toFixed(2)}`;
  return (
    <div data-cy={testId} data-verdict={positive ? 'positive' : 'negative'}>
      <div style={positive ? styles.positive : styles.negative}>
        {positive ? 'Tubers likely' : 'No tubers detected'}
      </div>
      <div style={styles.muted} data-cy={probabilityTestId}>
        Series probability {comparison}, {thresholdName}.
      </div>
    </div>
  );
}
