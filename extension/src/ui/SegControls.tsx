import { useSyncExternalStore } from 'react';
import type { DetectionState } from '../detectionController';
import type { SegExport } from '../segExport';
import { styles } from './styles';

/** Save and download of the tuber regions as DICOM SEG, for a completely analysed series. */
export function SegControls({ segExport, state }: { segExport: SegExport; state: DetectionState }) {
  const exportState = useSyncExternalStore(
    listener => segExport.subscribe(listener),
    () => segExport.current
  );
  const complete = state.phase === 'complete';
  const working = exportState.phase === 'working';
  const saveUnavailable = segExport.saveUnavailable();
  const threshold = state.threshold?.toFixed(2);
  return (
    <div data-cy="tuberlens-seg" data-status={exportState.phase}>
      <div style={styles.row}>
        <ExportButton
          testId="tuberlens-save-seg"
          enabled={complete && !working && !saveUnavailable}
          title={saveUnavailable ?? 'Store the tuber regions in the archive'}
          onClick={() => void segExport.save()}
        >
          Save as DICOM SEG
        </ExportButton>
        <ExportButton
          testId="tuberlens-download-seg"
          enabled={complete && !working}
          title="Download the tuber regions as a DICOM SEG file"
          onClick={() => void segExport.download()}
        >
          Download SEG
        </ExportButton>
      </div>
      <div style={styles.muted} data-cy="tuberlens-seg-note">
        {complete
          ? `Tuber regions: where Grad-CAM reaches half its peak, on slices at ${threshold} or more; one segment.`
          : 'DICOM SEG once every slice is analysed.'}
        {saveUnavailable && complete && ` Save: ${saveUnavailable}`}
      </div>
      {exportState.message && (
        <div
          style={exportState.phase === 'failed' ? styles.failure : styles.muted}
          data-cy="tuberlens-seg-message"
        >
          {exportState.message}
        </div>
      )}
    </div>
  );
}

function ExportButton({
  testId,
  enabled,
  title,
  onClick,
  children,
}: {
  testId: string;
  enabled: boolean;
  title: string;
  onClick: () => void;
  children: string;
}) {
  return (
    <button
      type="button"
      data-cy={testId}
      style={enabled ? styles.button : { ...styles.button, ...styles.disabled }}
      disabled={!enabled}
      title={title}
      onClick={onClick}
    >
      {children}
    </button>
  );
}
