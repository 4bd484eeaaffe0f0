import type { CSSProperties } from 'react';

/** The panel's look, close to OHIF's dark theme. */
export const styles: Record<string, CSSProperties> = {
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
  failure: { color: '#ff7b72', marginTop: '4px' },
  positive: { color: '#ff9f43', fontWeight: 600, marginTop: '4px' },
  negative: { color: '#7bd88f', fontWeight: 600, marginTop: '4px' },
  intendedUse: { color: '#9aa4b5', fontSize: '11px', margin: 0 },
  row: { display: 'flex', alignItems: 'center', gap: '8px', marginTop: '6px' },
  button: {
    background: '#1f3a52',
    color: '#d8dde6',
    border: '1px solid #3a5f80',
    borderRadius: '4px',
    padding: '3px 10px',
    cursor: 'pointer',
    fontSize: '12px',
  },
  disabled: { opacity: 0.45, cursor: 'not-allowed' },
  slider: { flex: 1, minWidth: 0 },
  progress: { width: '100%', marginTop: '6px' },
};
