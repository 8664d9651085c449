/** Hand files to the user as downloads. */
import type { LabFile } from './protocol.js';

/** Download each file (one click each; browsers allow a short burst from one gesture). */
export function downloadFiles(files: readonly LabFile[]): void {
  for (const f of files) {
    const blob = new Blob([f.bytes as BlobPart], { type: f.type ?? (typeof f.bytes === 'string' ? 'text/plain' : 'application/octet-stream') });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = f.name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  }
}

/** Read files the user picked into lab files. */
export async function readFiles(list: FileList | readonly File[]): Promise<LabFile[]> {
  return Promise.all([...list].map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}
