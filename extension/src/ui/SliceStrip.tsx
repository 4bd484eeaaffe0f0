import type { KeyboardEvent } from 'react';
import { isFlagged, type SliceRecord } from '../core/seriesReport';

const BAR_COLOR = '#5a86b0';
const FLAGGED_COLOR = '#ff9f43';

/** The probability of every slice in series order; flagged slices are marked; a click shows the slice. */
export function SliceStrip({
  slices,
  threshold,
  onSelect,
}: {
  slices: readonly SliceRecord[];
  threshold: number;
  onSelect: (index: number) => void;
}) {
  const thresholdY = (1 - threshold) * 100;
  return (
    <svg
      data-cy="tuberlens-slice-strip"
      role="group"
      aria-label="Tuber probability per slice"
      viewBox={`0 0 ${slices.length} 100`}
      preserveAspectRatio="none"
      style={{
        width: '100%',
        height: '64px',
        display: 'block',
        marginTop: '6px',
        background: 'rgba(0,0,0,0.35)',
      }}
    >
      {slices.map((slice, index) => (
        <SliceBar
          key={index}
          index={index}
          slice={slice}
          threshold={threshold}
          onSelect={onSelect}
        />
      ))}
      <line
        data-cy="tuberlens-threshold-line"
        x1={0}
        x2={slices.length}
        y1={thresholdY}
        y2={thresholdY}
        stroke="#f5c451"
        strokeDasharray="4 3"
        pointerEvents="none"
        vectorEffect="non-scaling-stroke"
      />
    </svg>
  );
}

function SliceBar({
  index,
  slice,
  threshold,
  onSelect,
}: {
  index: number;
  slice: SliceRecord;
  threshold: number;
  onSelect: (index: number) => void;
}) {
  const flagged = isFlagged(slice, threshold);
  const height = Math.max((slice.probability ?? 0) * 100, 1);
  const select = () => onSelect(index);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ') select();
  };
  return (
    <g
      data-cy="tuberlens-slice-bar"
      data-index={index}
      data-analysed={slice.probability !== undefined}
      data-flagged={flagged}
      role="button"
      tabIndex={0}
      onClick={select}
      onKeyDown={onKeyDown}
      style={{ cursor: 'pointer' }}
    >
      <title>{`Slice ${index + 1}: ${describe(slice)}${flagged ? ', flagged' : ''}`}</title>
      <rect x={index} y={0} width={1} height={100} fill="transparent" />
      {slice.probability !== undefined && (
        <rect
          x={index + 0.12}
          y={100 - height}
          width={0.76}
          height={height}
          fill={flagged ? FLAGGED_COLOR : BAR_COLOR}
        />
      )}
      {flagged && <rect x={index} y={0} width={1} height={7} fill={FLAGGED_COLOR} />}
    </g>
  );
}

function describe(slice: SliceRecord): string {
  return slice.probability === undefined
    ? 'not analysed'
    : `probability ${slice.probability.toFixed(2)}`;
}
