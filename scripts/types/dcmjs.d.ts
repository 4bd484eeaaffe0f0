// The part of dcmjs 0.52 that TuberLens uses (the package ships no type declarations).
declare module 'dcmjs' {
  export interface DicomElement {
    vr: string;
    Value?: unknown[];
    InlineBinary?: string;
    BulkDataURI?: string;
  }
  export type DicomDict = Record<string, DicomElement>;
  export interface DicomMessageFile {
    meta: DicomDict;
    dict: DicomDict;
  }
  interface DicomDictWriter {
    dict: DicomDict;
    write(): ArrayBuffer;
  }
  const dcmjs: {
    log: { setLevel(level: string): void };
    data: {
      DicomDict: new (meta: DicomDict) => DicomDictWriter;
      DicomMessage: {
        readFile(
          buffer: ArrayBuffer,
          options?: { untilTag?: string; includeUntilTagValue?: boolean; ignoreErrors?: boolean }
        ): DicomMessageFile;
      };
      DicomMetaDictionary: {
        naturalizeDataset(dict: DicomDict): Record<string, unknown>;
        /** Keyword-named values to a tag-keyed dict; numbers become strings, `_vrMap` names VRs. */
        denaturalizeDataset(dataset: Record<string, unknown>): DicomDict;
      };
      Colors: {
        /** sRGB (0–1 each) to a DICOM CIELab value (0–65535 each, not rounded). */
        rgb2DICOMLAB(rgb: number[]): number[];
      };
    };
  };
  export default dcmjs;
}
