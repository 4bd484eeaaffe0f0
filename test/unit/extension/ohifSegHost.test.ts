import type {
  CommandsManager,
  DataSource,
  DataSourceDefinition,
  ExtensionManager,
} from '../../../extension/src/ohif/types';
import { ohifSegHost } from '../../../extension/src/ohifSegHost';
import { mockServices } from './ohifMocks';

function setUp({
  dataSource = {},
  definition = { sourceName: 'tuberlens', configuration: { friendlyName: 'TuberLens demo' } },
  commands = {},
}: {
  dataSource?: DataSource;
  definition?: DataSourceDefinition;
  commands?: Record<string, (options: Record<string, unknown>) => unknown>;
}) {
  const extensionManager: ExtensionManager = {
    getModuleEntry: () => undefined,
    getActiveDataSource: () => [dataSource],
    getActiveDataSourceDefinition: () => definition,
  };
  const commandsManager: CommandsManager = {
    runCommand: jest.fn((name: string, options?: Record<string, unknown>) =>
      commands[name]?.(options ?? {})
    ),
  };
  const host = ohifSegHost(mockServices().services, extensionManager, commandsManager);
  return { host, commandsManager };
}

test('the SEG is the one the viewer’s DICOM SEG extension generates, with our options', () => {
  const dataset = { SOPClassUID: '1.2.840.10008.5.1.4.1.1.66.4' };
  const { host, commandsManager } = setUp({
    commands: { generateSegmentation: () => ({ dataset }) },
  });
  expect(host.generateSeg('regions', { SeriesDescription: 'TuberLens' })).toBe(dataset);
  expect(commandsManager.runCommand).toHaveBeenCalledWith('generateSegmentation', {
    segmentationId: 'regions',
    options: { SeriesDescription: 'TuberLens' },
  });
  expect(() => setUp({}).host.generateSeg('regions', {})).toThrow('no DICOM SEG export');
});

test('a download goes through the viewer’s own download store', async () => {
  const download = jest.fn(async () => {});
  const { host, commandsManager } = setUp({ commands: { createStoreFunction: () => download } });
  await host.download({ Modality: 'SEG' }, 'tuberlens-1.2.3-seg.dcm');
  expect(commandsManager.runCommand).toHaveBeenCalledWith('createStoreFunction', {
    dataSource: 'download',
    defaultFileName: 'tuberlens-1.2.3-seg.dcm',
  });
  expect(download).toHaveBeenCalledWith({ Modality: 'SEG' });
});

test('the archive stores through the active data source’s STOW-RS, unless it takes none', async () => {
  const dicom = jest.fn(async () => {});
  const writable = setUp({ dataSource: { store: { dicom } } }).host.archive();
  expect(writable.name).toBe('TuberLens demo');
  await writable.store!({ Modality: 'SEG' });
  expect(dicom).toHaveBeenCalledWith({ Modality: 'SEG' });

  expect(setUp({}).host.archive()).toEqual({ name: 'TuberLens demo' });
  const noStow = setUp({
    dataSource: { store: { dicom } },
    definition: { sourceName: 'pacs', configuration: { supportsStow: false } },
  });
  expect(noStow.host.archive()).toEqual({ name: 'pacs' });
});
