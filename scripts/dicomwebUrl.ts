/** The --dicomweb option of `tuberlens serve` and `tuberlens batch`. */

/** The URL of a DICOMweb root; bad text throws `InputError`, the command's own bad-input error. */
export function parseDicomwebUrl(text: string, InputError: new (message: string) => Error): URL {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(
      `--dicomweb must be a URL such as http://localhost:8042/dicom-web, not "${text}".`
    );
  }
  if (!/^https?:$/.test(url.protocol))
    throw new InputError(`--dicomweb must be an http or https URL, not "${text}".`);
  return url;
}
