/** Shared data shapes of the synthesis engine. */

export type VoxelData = Float32Array | Uint8Array | Uint16Array | Int16Array | Int32Array;

/**
 * A 3D image on a voxel grid. Voxel (i, j, k) is stored at data[i + dims[0] * (j + dims[1] * k)].
 * `affine` maps voxel indices to RAS+ millimetres (NIfTI world space), row-major 4×4.
 */
export interface Volume<T extends VoxelData = Float32Array> {
  dims: [number, number, number];
  affine: number[];
  data: T;
}

export type Contrast = 'T2' | 'FLAIR';

/** An axial 2D series as a scanner acquires it: one image per slice, in DICOM patient space (LPS). */
export interface RenderedSeries {
  contrast: Contrast;
  seriesDescription: string;
  rows: number;
  columns: number;
  /** DICOM PixelSpacing: [between rows, between columns] in mm. */
  pixelSpacing: [number, number];
  sliceThickness: number;
  spacingBetweenSlices: number;
  /** DICOM ImageOrientationPatient (LPS): row direction then column direction, unit vectors. */
  orientation: [number, number, number, number, number, number];
  /** DICOM ImagePositionPatient (LPS mm) of each slice's first pixel centre, inferior to superior. */
  positions: Array<[number, number, number]>;
  /**
   * Indices of the slices the acquisition kept (all of them, unless it renders `maxSlices` with
   * `neighbours`: then the others were rendered only as the kept slices' neighbours).
   */
  kept: number[];
  /** Stored pixel values (12-bit, 0–4095), rows × columns per slice, row by row. */
  pixels: Uint16Array[];
  /** Tuber mask per slice (1 inside a tuber), same layout as pixels. */
  masks: Uint8Array[];
  repetitionTime: number;
  echoTime: number;
  inversionTime?: number;
}

/** Who and what a synthetic study is, for the DICOM header. */
export interface StudyIdentity {
  patientName: string;
  patientId: string;
  studyDescription: string;
  /** DICOM DA, e.g. 20260101. */
  studyDate: string;
  /** Seed text from which every UID of the study is derived, so the same seed gives the same bytes. */
  uidSeed: string;
}
