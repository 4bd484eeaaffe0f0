export const EXTENSION_ID = 'tuberlens';
export const PANEL_NAME = 'tubers';
export const PANEL_ID = `${EXTENSION_ID}.panelModule.${PANEL_NAME}`;
export const DETECT_COMMAND = 'detectTubers';
export const DETECT_BUTTON_ID = 'DetectTubers';
export const DETECT_HOTKEY = 't';
export const HANGING_PROTOCOL_ID = 'tuberlens.axialT2Flair';
export const TOOLBAR_BUTTONS_CUSTOMIZATION = 'tuberlens.toolbarButtons';
/** A page address parameter naming the TF.js backends to use, e.g. `?tuberlensBackend=webgl`. */
export const BACKEND_QUERY_PARAMETER = 'tuberlensBackend';
/** The TuberLens mode's route: a study opens at `/tuberlens?StudyInstanceUIDs=<uid>`. */
export const MODE_ID = 'tuberlens';
/** The cohort view's route in the viewer. */
export const COHORT_PATH = '/tuberlens-cohort';
