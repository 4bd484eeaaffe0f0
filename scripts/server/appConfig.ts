export interface AppConfigOptions {
  extensionPath: string;
  modePath: string;
  dicomwebPath: string;
  dataSourceLabel: string;
  /** Whether the data source takes STOW-RS stores (a PACS does; the embedded demo archive does not). */
  supportsStow: boolean;
}

/** The viewer's window.config: our extension and mode by URL, and one same-origin DICOMweb data source. */
export function renderAppConfig({
  extensionPath,
  modePath,
  dicomwebPath,
  dataSourceLabel,
  supportsStow,
}: AppConfigOptions): string {
  const dataSource = {
    namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
    sourceName: 'tuberlens',
    configuration: {
      friendlyName: dataSourceLabel,
      name: 'tuberlens',
      qidoSupportsIncludeField: false,
      imageRendering: 'wadors',
      thumbnailRendering: 'wadors',
      enableStudyLazyLoad: true,
      supportsFuzzyMatching: false,
      supportsWildcard: true,
      omitQuotationForMultipartRequest: true,
      dicomUploadEnabled: false,
      supportsStow,
    },
  };
  const config = {
    name: 'tuberlens',
    routerBasename: '/',
    extensions: [extensionPath],
    modes: [modePath],
    showStudyList: true,
    groupEnabledModesFirst: true,
    maxNumberOfWebWorkers: 2,
    showLoadingIndicator: true,
    showCPUFallbackMessage: true,
    strictZSpacingForVolumeViewport: true,
    investigationalUseDialog: { option: 'never' },
    defaultDataSourceName: 'tuberlens',
    dataSources: [dataSource],
  };
  // The roots must be absolute URLs, so they are completed in the browser from its own origin.
  return [
    '/** @type {AppTypes.Config} */',
    `window.config = ${JSON.stringify(config, null, 2)};`,
    `for (const key of ['qidoRoot', 'wadoRoot', 'wadoUriRoot']) {`,
    `  window.config.dataSources[0].configuration[key] = window.location.origin + ${JSON.stringify(dicomwebPath)};`,
    '}',
    '',
  ].join('\n');
}
