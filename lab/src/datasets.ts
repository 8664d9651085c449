/**
 * Image data for the lab's panels, fetched from the `genphys lab` server's /data routes
 * (Fashion-MNIST / MNIST found on this machine). A static host has no such routes: the
 * error then says to run `genphys lab` (or to upload the files where a panel allows it).
 */

/** Images as the panels use them. */
export interface LabImages {
  readonly name: string;
  readonly n: number;
  readonly rows: number;
  readonly cols: number;
  /** n·rows·cols bytes, row-major. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

const origin = (): string => (globalThis as unknown as { location: { origin: string } }).location.origin;

/** Which datasets the server has, by name, with their splits (empty on a static host). */
export async function listServerDatasets(): Promise<{ name: string; splits: string[] }[]> {
  try {
    const r = await fetch(`${origin()}/data/index.json`);
    if (!r.ok) return [];
    return ((await r.json()) as { datasets: { name: string; splits: string[] }[] }).datasets;
  } catch {
    return [];
  }
}

/** The first `n` images and labels of a split from the server. */
export async function fetchImages(name: string, split: 'train' | 'test', n: number): Promise<LabImages> {
  const get = async (what: string) => {
    const r = await fetch(`${origin()}/data/${name}/${split}/${what}?n=${n}`);
    if (!r.ok) throw new Error(`${name} ${split}: ${(await r.text()).trim() || r.statusText} (the lab reads images through 'genphys lab', which finds them on this machine)`);
    return { bytes: new Uint8Array(await r.arrayBuffer()), shape: (r.headers.get('X-Shape') ?? '').split(',').map(Number) };
  };
  const img = await get('images');
  const lab = await get('labels');
  const [k, rows, cols] = img.shape as [number, number, number];
  if (!(k > 0 && rows > 0 && cols > 0) || lab.bytes.length !== k) throw new Error(`${name} ${split}: the server sent inconsistent images and labels`);
  return { name, n: k, rows, cols, pixels: img.bytes, labels: lab.bytes };
}
