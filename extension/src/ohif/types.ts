/**
 * The small part of the OHIF 3.13 runtime surface that TuberLens uses. The @ohif packages ship
 * no type declarations, so the contract is stated here; unit tests mock exactly this surface.
 */

import type { SeriesAttributes } from '../core/seriesClassification';

export interface Subscription {
  unsubscribe(): void;
}

export interface PubSubService {
  EVENTS: Record<string, string>;
  subscribe(event: string, callback: (payload?: unknown) => void): Subscription;
}

/** An instance's naturalized DICOM attributes, as OHIF keeps them in a display set. */
export interface InstanceMetadata extends SeriesAttributes {
  ImageOrientationPatient?: number[];
  [attribute: string]: unknown;
}

export interface DisplaySet {
  displaySetInstanceUID: string;
  StudyInstanceUID?: string;
  SeriesInstanceUID?: string;
  SeriesDescription?: string;
  SeriesNumber?: number | string;
  Modality?: string;
  instances?: InstanceMetadata[];
  instance?: InstanceMetadata;
  /** The cornerstone image ids of the display set's frames, in the viewport's stack order. */
  imageIds?: string[];
  /** A SEG's or SR's: the display set of the series it refers to. */
  referencedDisplaySetInstanceUID?: string;
  /** Loads what the display set holds (a SEG: its segmentation, into the segmentation service). */
  load?(options: { headers?: Record<string, string> }): Promise<void>;
}

export interface ViewportGridService extends PubSubService {
  getActiveViewportId(): string | undefined;
  getDisplaySetsUIDsForViewport(viewportId: string): string[] | undefined;
  setDisplaySetsForViewport(update: { viewportId: string; displaySetInstanceUIDs: string[] }): void;
}

export interface DisplaySetService extends PubSubService {
  getDisplaySetByUID(displaySetInstanceUID: string): DisplaySet | undefined;
  getActiveDisplaySets(): DisplaySet[];
}

/** A cornerstone viewport, stack or volume: the calls both kinds answer alike. */
export interface CornerstoneViewport {
  /** The image shown; undefined in a volume viewport cut across its acquisition plane. */
  getCurrentImageId(): string | undefined;
  getFrameOfReferenceUID(): string;
  setViewReference(reference: { referencedImageId: string; FrameOfReferenceUID: string }): void;
}

export interface CornerstoneViewportService {
  getCornerstoneViewport(viewportId: string): CornerstoneViewport | null | undefined;
}

export type SegmentColor = [number, number, number, number];

export interface LabelmapStyle {
  fillAlpha?: number;
  fillAlphaInactive?: number;
  renderFill?: boolean;
  renderFillInactive?: boolean;
  renderOutline?: boolean;
  renderOutlineInactive?: boolean;
}

/** A segment as OHIF keeps it; the algorithm fields go into a DICOM SEG's segment when it is stored. */
export interface SegmentConfig {
  label: string;
  active?: boolean;
  locked?: boolean;
  algorithmType?: string;
  algorithmName?: string;
}

export interface SegmentationService extends PubSubService {
  createLabelmapForDisplaySet(
    displaySet: DisplaySet,
    options: {
      segmentationId: string;
      label: string;
      segments: Record<number, SegmentConfig>;
    }
  ): Promise<string>;
  addSegmentationRepresentation(
    viewportId: string,
    options: { segmentationId: string; type?: string }
  ): Promise<void>;
  setSegmentColor(
    viewportId: string,
    segmentationId: string,
    segmentIndex: number,
    color: SegmentColor
  ): void;
  setStyle(specifier: { segmentationId: string; type: string }, style: LabelmapStyle): void;
  getSegmentation(segmentationId: string): Segmentation | undefined;
  getSegmentations(): Segmentation[];
  remove(segmentationId: string): void;
}

export interface Segmentation {
  segmentationId: string;
  label?: string;
  representationData: { Labelmap?: { imageIds: string[]; referencedImageIds?: string[] } };
}

export interface PanelService {
  activatePanel(panelId: string, forceActive?: boolean): void;
}

export interface UINotificationService {
  show(notification: {
    title: string;
    message: string;
    type?: 'info' | 'success' | 'warning' | 'error';
    duration?: number;
  }): void;
}

export interface HangingProtocolService {
  addCustomAttribute(
    attributeId: string,
    attributeName: string,
    callback: (displaySet: DisplaySet) => unknown
  ): void;
}

export interface ToolbarService {
  register(buttons: ToolbarButton[]): void;
}

export interface ToolbarButton {
  id: string;
  uiType: string;
  props: Record<string, unknown>;
}

export interface Services {
  viewportGridService: ViewportGridService;
  cornerstoneViewportService: CornerstoneViewportService;
  segmentationService: SegmentationService;
  displaySetService: DisplaySetService;
  panelService: PanelService;
  uiNotificationService: UINotificationService;
  hangingProtocolService: HangingProtocolService;
  toolbarService: ToolbarService;
}

export interface UserAuthenticationService {
  /** The signed-in user's Authorization header, where the viewer has a sign-in. */
  getAuthorizationHeader(): Record<string, string> | undefined;
}

export interface ServicesManager {
  services: Services & { userAuthenticationService?: UserAuthenticationService };
}

/** A naturalized DICOM dataset, as dcmjs and OHIF's commands hand them around. */
export type DicomDataset = Record<string, unknown>;

export interface DataSource {
  /** STOW-RS, where the data source can store. */
  store?: { dicom?(dataset: DicomDataset): Promise<void> };
  /** A DICOMweb data source's settings: its QIDO-RS root (an absolute URL) among them. */
  getConfig?(): { qidoRoot?: string } | undefined;
}

export interface DataSourceDefinition {
  sourceName: string;
  configuration?: { friendlyName?: string; supportsStow?: boolean; qidoRoot?: string };
}

export interface ExtensionManager {
  getModuleEntry(id: string): { exports?: Record<string, unknown> } | undefined;
  getActiveDataSource(): DataSource[] | undefined;
  getActiveDataSourceDefinition(): DataSourceDefinition | undefined;
}

export interface CommandsManager {
  /** Runs a command of any extension; undefined when no extension offers it. */
  runCommand(commandName: string, options?: Record<string, unknown>): unknown;
}

export interface ExtensionParams {
  servicesManager: ServicesManager;
  commandsManager: CommandsManager;
  extensionManager: ExtensionManager;
  configuration?: TuberLensConfiguration;
}

export interface TuberLensConfiguration {
  /** URL of the models folder: its index.json lists the installed models, each in a folder with its card and weights. */
  modelsUrl?: string;
}
