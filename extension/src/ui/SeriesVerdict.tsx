import { styles } from './styles';

/** A series verdict in words, and the probability against the threshold that decided it. */
export function SeriesVerdict({
  positive,
  probability,
  threshold,
  thresholdName,
  testId,
  probabilityTestId,
}: {
  positive: boolean;
  probability: number;
  threshold: number;
  /** Which threshold it is, e.g. "the model card's threshold". */
  thresholdName: string;
  testId: string;
  probabilityTestId: string;
}) {
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
