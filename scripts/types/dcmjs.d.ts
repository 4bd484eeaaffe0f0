// The part of dcmjs 0.52 that the server uses (the package ships no type declarations).
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
  class DicomDictWriter {
    constructor(meta: DicomDict);
    dict: DicomDict;
    write(): ArrayBuffer;
  }
  const dcmjs: {
    log: { setLevel(level: string): void };
    data: {
      DicomDict: typeof DicomDictWriter;
      DicomMessage: {
        readFile(
          buffer: ArrayBuffer,
          options?: { untilTag?: string; includeUntilTagValue?: boolean; ignoreErrors?: boolean }
        ): DicomMessageFile;
      };
      DicomMetaDictionary: {
        naturalizeDataset(dict: DicomDict): Record<string, unknown>;
      };
    };
  };
  export default dcmjs;
}
