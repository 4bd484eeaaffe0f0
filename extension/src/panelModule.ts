import type { DetectionController } from './detectionController';
import { PANEL_NAME } from './id';
import type { ModelStatus } from './modelStatus';
import type { Services } from './ohif/types';
import type { SegExport } from './segExport';
import type { StoredResults } from './storedResults';
import { hostComponent } from './ui/hostComponent';
import { TubersPanel } from './ui/TubersPanel';

export function getPanelModule(
  services: Services,
  {
    modelStatus,
    detection,
    segExport,
    storedResults,
  }: {
    modelStatus: ModelStatus;
    detection: DetectionController;
    segExport: SegExport;
    storedResults: StoredResults;
  }
) {
  return [
    {
      name: PANEL_NAME,
      iconName: 'tab-roi-threshold',
      iconLabel: 'Tubers',
      label: 'Tubers',
      component: hostComponent(
        TubersPanel,
        { services, modelStatus, detection, segExport, storedResults },
        'tuberlens-panel'
      ),
    },
  ];
}
