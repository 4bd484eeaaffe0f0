import { archiveClient, type Authorization } from './archiveClient';
import { findStoredResults } from './core/results/storedResultSearch';
import { showImage } from './displayedSeries';
import { getCornerstoneLibraries } from './ohif/cornerstone';
import type { ExtensionManager, Services } from './ohif/types';
import type { StoredResultHost } from './storedResults';

/**
 * The stored results' view of the running viewer: the active data source's PACS, and OHIF's own DICOM
 * SEG support (the cornerstone-dicom-seg extension's display set loads the SEG into the segmentation
 * service, as for a SEG dropped on a viewport), so the layer is listed in OHIF's segmentation panel.
 */
export function ohifStoredResultHost(
  services: Services,
  extensionManager: ExtensionManager,
  authorization: Authorization
): StoredResultHost {
  return {
    findResults: studyInstanceUID =>
      findStoredResults(archiveClient(extensionManager, authorization), studyInstanceUID),
    async showSeg(seg, viewportId) {
      if (!seg.load) throw new Error('the viewer cannot read DICOM SEG (cornerstone-dicom-seg).');
      await seg.load({ headers: authorization() ?? {} });
      await services.segmentationService.addSegmentationRepresentation(viewportId, {
        segmentationId: seg.displaySetInstanceUID,
        type: 'Labelmap',
      });
    },
    imageIdOf(displaySet, sopInstanceUID) {
      const { metaData } = getCornerstoneLibraries(extensionManager).cornerstone;
      return displaySet.imageIds?.find(
        imageId =>
          (metaData.get('instance', imageId) as { SOPInstanceUID?: string } | undefined)
            ?.SOPInstanceUID === sopInstanceUID
      );
    },
    showImage: (viewportId, imageId) => showImage(services, viewportId, imageId),
  };
}
