/**
 * The small part of the OHIF 3.13 runtime surface that TuberLens uses. The @ohif packages ship
 * no type declarations, so the contract is stated here; unit tests mock exactly this surface.
 */

export interface Subscription {
  unsubscribe(): void;
}

export interface PubSubService {
  EVENTS: Record<string, string>;
  subscribe(event: string, callback: (payload?: unknown) => void): Subscription;
}

/** An instance's naturalized DICOM attributes, as OHIF keeps them in a display set. */
export interface InstanceMetadata {
  Modality?: string;
  SeriesDescription?: string;
  SequenceName?: string;
  ScanningSequence?: string | string[];
  RepetitionTime?: number | string;
  EchoTime?: number | string;
  InversionTime?: number | string;
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
}

export interface ViewportGridService extends PubSubService {
  getActiveViewportId(): string | undefined;
  getDisplaySetsUIDsForViewport(viewportId: string): string[] | undefined;
}

export interface DisplaySetService extends PubSubService {
  getDisplaySetByUID(displaySetInstanceUID: string): DisplaySet | undefined;
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
  displaySetService: DisplaySetService;
  panelService: PanelService;
  uiNotificationService: UINotificationService;
  hangingProtocolService: HangingProtocolService;
  toolbarService: ToolbarService;
}

export interface ServicesManager {
  services: Services;
}

export interface ExtensionParams {
  servicesManager: ServicesManager;
  commandsManager?: unknown;
  extensionManager?: unknown;
  configuration?: TuberLensConfiguration;
}

export interface TuberLensConfiguration {
  /** URL of the models folder: its index.json lists the installed models, each in a folder with its card and weights. */
  modelsUrl?: string;
}
