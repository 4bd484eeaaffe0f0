/** Saves text as a file: built in the page and handed to the browser, so nothing is uploaded. */
export function downloadText(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The click starts the download before the next task; the URL may go then.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
