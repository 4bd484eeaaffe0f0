import type { Rgba } from './core/heatLevels';
import type { DetectionController, DetectionTarget, TuberRegions } from './detectionController';
import { regionCriterion } from './core/tuberRegions';
import type { DicomDataset, Services } from './ohif/types';
import { StateStore } from './stateStore';
import type { LayerSpec, LayerTarget, TuberLayer } from './tuberLayers';

export const SEGMENT_LABEL = 'Tuber (TuberLens Grad-CAM)';
export const READ_ONLY_ARCHIVE = 'this archive is read-only; use Download SEG.';

/** DICOM SEG as every archive and viewer reads it: Segmentation Storage, uncompressed. */
export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** HTTP statuses of an archive that takes no STOW-RS at all. */
const STORE_REFUSALS = new Set([405, 501]);
const REGION_COLOR: Rgba = [0, 220, 255, 255];

/** What the export needs from the viewer; unit tests give plain objects. */
export interface SegHost {
  createLayer(spec: LayerSpec, target: LayerTarget): Promise<TuberLayer>;
  /** The viewer's own DICOM SEG of a segmentation, with `options` for the SEG's attributes. */
  generateSeg(segmentationId: string, options: Record<string, unknown>): DicomDataset;
  download(dataset: DicomDataset, fileName: string): Promise<void>;
  /** The active data source: its name, and its STOW-RS where it takes stores. */
  archive(): { name: string; store?: (dataset: DicomDataset) => Promise<void> };
}

export type SegExportPhase = 'idle' | 'working' | 'done' | 'empty' | 'failed';

export interface SegExportState {
  phase: SegExportPhase;
  message: string;
}

const IDLE: SegExportState = { phase: 'idle', message: '' };

type Delivery = (
  dataset: DicomDataset,
  regions: TuberRegions
) => Promise</** What was done, for people. */ string>;

/**
 * The tuber regions of a completely analysed series (see core/tuberRegions.ts) as a DICOM SEG
 * with one segment, built by the viewer's own SEG export: downloaded, or stored in the active data
 * source. A store the archive refuses is reported as refused, never as saved.
 */
export class SegExport extends StateStore<SegExportState> {
  /** Whether the archive has refused a store as one it never takes. */
  private archiveRefused = false;

  constructor(
    private readonly services: Pick<Services, 'displaySetService' | 'uiNotificationService'>,
    private readonly detection: DetectionController,
    private readonly host: SegHost
  ) {
    super(IDLE);
    // An outcome belongs to the results it exported; a new run has none yet.
    detection.subscribe(() => {
      const outcome = this.state.phase !== 'idle' && this.state.phase !== 'working';
      if (outcome && detection.current.phase !== 'complete') this.setState(IDLE);
    });
  }

  /** Why "Save as DICOM SEG" cannot work here, or undefined when the archive may take it. */
  saveUnavailable(): string | undefined {
    return this.archiveRefused || !this.host.archive().store ? READ_ONLY_ARCHIVE : undefined;
  }

  download(): Promise<void> {
    return this.export('Not downloaded', async (dataset, { target }) => {
      const fileName = `tuberlens-${target.seriesInstanceUID ?? 'series'}-seg.dcm`;
      await this.host.download(dataset, fileName);
      return `Downloaded ${fileName}`;
    });
  }

  save(): Promise<void> {
    return this.export('Not saved', async dataset => {
      const { name, store } = this.host.archive();
      if (this.archiveRefused || !store) throw new Error(READ_ONLY_ARCHIVE);
      try {
        await store(dataset);
      } catch (error) {
        if (!STORE_REFUSALS.has(httpStatus(error) ?? 0)) throw error;
        this.archiveRefused = true;
        throw new Error(READ_ONLY_ARCHIVE);
      }
      return `Saved to ${name}`;
    });
  }

  private async export(failure: string, deliver: Delivery): Promise<void> {
    if (this.state.phase === 'working') return;
    const regions = this.detection.tuberRegions();
    if (!regions) return this.finish('failed', 'Run detection on the whole series first.');
    const threshold = regions.threshold.toFixed(2);
    const slices = regions.masks.filter(({ mask }) => mask.includes(1)).length;
    if (slices === 0)
      return this.finish(
        'empty',
        `No slice at ${threshold} or more has a Grad-CAM region: nothing to export.`
      );
    this.setState({ phase: 'working', message: 'Building the DICOM SEG …' });
    try {
      const layer = await this.drawRegions(regions);
      const done = await deliver(
        this.host.generateSeg(layer.segmentationId, segOptions(regions)),
        regions
      );
      this.finish(
        'done',
        `${done}: tuber regions (${regionCriterion(regions.threshold)}) on ${slices} of ${regions.masks.length} slices.`
      );
    } catch (error) {
      this.finish('failed', `${failure}: ${describe(error)}`);
    }
  }

  /** The regions as a segmentation of their own, outlined over the heat map: what the SEG holds. */
  private async drawRegions(regions: TuberRegions): Promise<TuberLayer> {
    const { target, masks } = regions;
    const displaySet = this.services.displaySetService.getDisplaySetByUID(
      target.displaySetInstanceUID
    );
    if (!displaySet) throw new Error('the series is no longer loaded.');
    const layer = await this.host.createLayer(regionLayerSpec(regions), {
      displaySet,
      viewportId: target.viewportId,
    });
    masks.forEach(({ imageId, mask }) => layer.write(imageId, mask));
    layer.flush();
    return layer;
  }

  private finish(phase: SegExportPhase, message: string): void {
    this.setState({ phase, message });
    this.services.uiNotificationService.show({
      title: 'DICOM SEG of the tuber regions',
      message,
      type: phase === 'done' ? 'success' : phase === 'empty' ? 'info' : 'error',
    });
  }
}

function regionSegmentationId({ displaySetInstanceUID }: DetectionTarget): string {
  return `tuberlens-tubers-${displaySetInstanceUID}`;
}

function regionLayerSpec({ target, model, threshold }: TuberRegions): LayerSpec {
  return {
    segmentationId: regionSegmentationId(target),
    label: `TuberLens tubers (${regionCriterion(threshold)})`,
    segments: [
      {
        index: 1,
        label: SEGMENT_LABEL,
        color: REGION_COLOR,
        algorithm: { type: 'AUTOMATIC', name: `${model.name} ${model.version}` },
      },
    ],
    style: 'outline',
  };
}

/** The SEG's encoding and the attributes that say what made it (plain ASCII: the SEG declares no character set). */
function segOptions({ model, threshold }: TuberRegions): Record<string, unknown> {
  const atThreshold = regionCriterion(threshold);
  return {
    sopClassUID: SEGMENTATION_STORAGE,
    // The viewer's defaults come in both spellings, and its SEG writer reads the lower-case one first.
    transferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
    SeriesDescription: longString(
      `TuberLens tubers, p >= ${threshold.toFixed(2)}, ${model.name} ${model.version}`
    ),
    Manufacturer: 'TuberLens',
    ManufacturerModelName: longString(model.name),
    SoftwareVersions: longString(model.version),
    ContentDescription: longString(`Tuber regions, ${atThreshold}; research use only`),
    ContentCreatorName: 'TuberLens',
  };
}

/** DICOM LO values hold at most 64 characters. */
function longString(text: string): string {
  return text.slice(0, 64);
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

function describe(error: unknown): string {
  const status = httpStatus(error);
  if (status !== undefined) return `the archive answered HTTP ${status}.`;
  return error instanceof Error ? error.message : String(error);
}
