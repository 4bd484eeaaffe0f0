import { getCornerstoneLibraries } from './ohif/cornerstone';
import type { CommandsManager, DicomDataset, ExtensionManager, Services } from './ohif/types';
import type { SegHost } from './segExport';
import { createLayer } from './tuberLayers';

type StoreFunction = (dataset: DicomDataset) => Promise<void>;

/**
 * The SEG export's view of the running viewer: the cornerstone-dicom-seg extension's
 * generateSegmentation (the SEG its storeSegmentation stores), OHIF's download, and the active data
 * source's STOW-RS.
 */
export function ohifSegHost(
  services: Services,
  extensionManager: ExtensionManager,
  commandsManager: CommandsManager
): SegHost {
  return {
    createLayer: (spec, target) =>
      createLayer(services, getCornerstoneLibraries(extensionManager), spec, target),
    generateSeg(segmentationId, options) {
      const generated = commandsManager.runCommand('generateSegmentation', {
        segmentationId,
        options,
      }) as { dataset?: DicomDataset } | undefined;
      if (!generated?.dataset)
        throw new Error(
          'the viewer has no DICOM SEG export (its cornerstone-dicom-seg extension).'
        );
      return generated.dataset;
    },
    async download(dataset, fileName) {
      const download = commandsManager.runCommand('createStoreFunction', {
        dataSource: 'download',
        defaultFileName: fileName,
      }) as StoreFunction | undefined;
      if (!download) throw new Error('the viewer offers no download of DICOM files.');
      await download(dataset);
    },
    archive() {
      const definition = extensionManager.getActiveDataSourceDefinition();
      const [dataSource] = extensionManager.getActiveDataSource() ?? [];
      const name = definition?.configuration?.friendlyName ?? definition?.sourceName ?? 'archive';
      const store = dataSource?.store;
      const storeDicom = store?.dicom;
      if (!storeDicom || definition?.configuration?.supportsStow === false) return { name };
      return { name, store: dataset => storeDicom.call(store, dataset) };
    },
  };
}
