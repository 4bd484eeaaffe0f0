/**
 * FreeSurfer-style labels (aseg numbering, plus SynthSeg's extra-cerebral 5xx labels) grouped into the
 * tissue classes whose MR signal the renderer models.
 */

export const TISSUES = [
  'background',
  'whiteMatter',
  'cortex',
  'deepGray',
  'pallidum',
  'cerebellarCortex',
  'brainstem',
  'csf',
  'vessel',
  'bone',
  'scalp',
  'fat',
  'softTissue',
  'eye',
  'air',
  'other',
] as const;

export type Tissue = (typeof TISSUES)[number];

export const LABEL = {
  leftWhiteMatter: 2,
  leftCortex: 3,
  leftLateralVentricle: 4,
  rightWhiteMatter: 41,
  rightCortex: 42,
  rightLateralVentricle: 43,
  csf: 24,
  brainstem: 16,
} as const;

const TISSUE_OF_LABEL: Record<number, Tissue> = {
  0: 'background',
  2: 'whiteMatter',
  41: 'whiteMatter',
  7: 'whiteMatter',
  46: 'whiteMatter',
  28: 'whiteMatter',
  60: 'whiteMatter',
  3: 'cortex',
  42: 'cortex',
  17: 'cortex',
  53: 'cortex',
  18: 'cortex',
  54: 'cortex',
  8: 'cerebellarCortex',
  47: 'cerebellarCortex',
  10: 'deepGray',
  49: 'deepGray',
  11: 'deepGray',
  50: 'deepGray',
  12: 'deepGray',
  51: 'deepGray',
  26: 'deepGray',
  58: 'deepGray',
  13: 'pallidum',
  52: 'pallidum',
  16: 'brainstem',
  4: 'csf',
  43: 'csf',
  5: 'csf',
  44: 'csf',
  14: 'csf',
  15: 'csf',
  24: 'csf',
  31: 'csf',
  63: 'csf',
  30: 'vessel',
  62: 'vessel',
  // SynthSeg's extra-cerebral labels, named by where they lie around the brain.
  515: 'bone',
  511: 'scalp',
  516: 'fat',
  507: 'softTissue',
  502: 'softTissue',
  512: 'softTissue',
  514: 'softTissue',
  506: 'eye',
  509: 'air',
};

export function tissueOf(label: number): Tissue {
  return TISSUE_OF_LABEL[label] ?? 'other';
}

/** Brain parenchyma: where tubers can be. */
const PARENCHYMA = new Set<Tissue>([
  'whiteMatter',
  'cortex',
  'deepGray',
  'pallidum',
  'cerebellarCortex',
  'brainstem',
]);

export function isParenchyma(label: number): boolean {
  return PARENCHYMA.has(tissueOf(label));
}

export function isCerebralCortex(label: number): boolean {
  return label === LABEL.leftCortex || label === LABEL.rightCortex;
}

export function isCerebralWhiteMatter(label: number): boolean {
  return label === LABEL.leftWhiteMatter || label === LABEL.rightWhiteMatter;
}

export function isLateralVentricle(label: number): boolean {
  return label === LABEL.leftLateralVentricle || label === LABEL.rightLateralVentricle;
}

/** Every label value 0–65535 mapped to a tissue index, for fast per-voxel lookups. */
export function tissueLookup(tissues: readonly Tissue[]): Uint8Array {
  const lookup = new Uint8Array(65536).fill(tissues.indexOf('other'));
  for (const [label, tissue] of Object.entries(TISSUE_OF_LABEL))
    lookup[Number(label)] = tissues.indexOf(tissue);
  return lookup;
}
