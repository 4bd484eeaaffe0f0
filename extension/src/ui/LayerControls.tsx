import type { DetectionController, DetectionState } from '../detectionController';
import { HEAT_FLOOR, HEAT_LEVELS } from '../core/heatLevels';
import { LAYER_NAMES, type LayerKind } from '../tuberLayers';
import { styles } from './styles';

/** Layer toggles and opacity; the same layers list in OHIF's segmentation panel. */
export function LayerControls({
  detection,
  state,
}: {
  detection: DetectionController;
  state: DetectionState;
}) {
  const { layers } = state;
  const running = state.phase === 'loading' || state.phase === 'running';
  return (
    <div data-cy="tuberlens-layers" style={{ marginTop: '8px' }}>
      <LayerToggle kind="gradCam" detection={detection} checked={layers.gradCam} />
      <LayerToggle
        kind="saliency"
        detection={detection}
        checked={layers.saliency}
        disabled={running && !layers.saliencyComputed}
        note={layers.saliencyComputed ? undefined : 'runs detection again with saliency'}
      />
      <label style={styles.row}>
        Opacity
        <input
          type="range"
          data-cy="tuberlens-layer-opacity"
          min={0}
          max={1}
          step={0.05}
          value={layers.opacity}
          style={styles.slider}
          onChange={event => detection.setOpacity(Number(event.target.value))}
        />
        {Math.round(layers.opacity * 100)} %
      </label>
      <div style={styles.muted}>
        Heat: each map times its slice&apos;s probability, drawn from {HEAT_FLOOR} in{' '}
        {HEAT_LEVELS.length} levels, dark red to pale yellow.
      </div>
    </div>
  );
}

function LayerToggle({
  kind,
  detection,
  checked,
  disabled = false,
  note,
}: {
  kind: LayerKind;
  detection: DetectionController;
  checked: boolean;
  disabled?: boolean;
  note?: string;
}) {
  return (
    <label style={styles.row}>
      <input
        type="checkbox"
        data-cy={`tuberlens-layer-${kind}`}
        checked={checked}
        disabled={disabled}
        onChange={event => detection.setLayerVisible(kind, event.target.checked)}
      />
      {LAYER_NAMES[kind]}
      {note && <span style={styles.muted}>({note})</span>}
    </label>
  );
}
