// web/data.ts — Fashion-MNIST's training set for the playground's Train view: fetched from the page's server
// (`npm run playground` serves the files setup installs under data/) or read from the four IDX files the user
// picks; gzip is undone in the page (DecompressionStream), and each file's SHA-256 (Web Crypto) must be the
// official one, as the Node loader checks. Browser-clean: runs in Node 20 too, where the tests check it.
import { FILES } from '../data/fashion_files.js';
import { IdxError, parseImagesAndLabels, type LabelledImages } from '../data/idx.js';

export class PageDataError extends Error {}

/** what to tell a user whose page found no data */
export const HOW_TO_GET_DATA =
  'Fashion-MNIST is not served here. With `npm run playground` the server serves the ' +
  "files `bash scripts/setup.sh` installs (Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist; or " +
  './data, or $FASHION_MNIST_DIR): install them and restart it. Or pick the four files (train-images-idx3-ubyte.gz, ' +
  'train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz from ' +
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/) with "Pick data files…".';

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** the bytes, gunzipped when they are gzip (by their magic number) */
export async function gunzipIfNeeded(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new PageDataError(
      `${name}: not a valid gzip file (${(e as Error).message}); the download is corrupt or truncated — get it again`,
    );
  }
}

/** SHA-256 of the bytes, hex */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The training set from the train images and labels files (as fetched or picked; gzipped or not), each checked
 * against the official SHA-256 (`verify` false only for tests of small fixture files).
 */
export async function trainSetFrom(
  images: { name: string; bytes: Uint8Array },
  labels: { name: string; bytes: Uint8Array },
  verify = true,
): Promise<LabelledImages> {
  const [im, lb] = await Promise.all([
    gunzipIfNeeded(images.bytes, images.name),
    gunzipIfNeeded(labels.bytes, labels.name),
  ]);
  if (verify)
    for (const [b, name, want] of [
      [im, images.name, FILES.trainImages.sha256],
      [lb, labels.name, FILES.trainLabels.sha256],
    ] as const) {
      const sha = await sha256Hex(b);
      if (sha !== want)
        throw new PageDataError(
          `${name}: contents differ from the official Fashion-MNIST training file (SHA-256 ${sha.slice(0, 12)}…, want ${want.slice(0, 12)}…); pick the right file, or get it again`,
        );
    }
  try {
    return parseImagesAndLabels(im, lb, [images.name, labels.name], 10, [28, 28]);
  } catch (e) {
    if (e instanceof IdxError) throw new PageDataError(e.message);
    throw e;
  }
}

/** which training file a picked file is, by its name ("train-images-idx3-ubyte" or ".gz"); null for others */
export function trainFileKind(name: string): 'images' | 'labels' | null {
  const base = name.replace(/\.gz$/, '');
  return base === FILES.trainImages.name ? 'images' : base === FILES.trainLabels.name ? 'labels' : null;
}

/**
 * The training set from picked files (the test files may be among them and are not needed here). Names what is
 * missing.
 */
export async function trainSetFromPicked(files: { name: string; bytes: Uint8Array }[]): Promise<LabelledImages> {
  const images = files.find((f) => trainFileKind(f.name) === 'images');
  const labels = files.find((f) => trainFileKind(f.name) === 'labels');
  if (!images || !labels) {
    const missing = [!images && `${FILES.trainImages.name}.gz`, !labels && `${FILES.trainLabels.name}.gz`]
      .filter(Boolean)
      .join(' and ');
    throw new PageDataError(
      `training needs ${missing} among the picked files (picked: ${files.map((f) => f.name).join(', ') || 'none'})`,
    );
  }
  return trainSetFrom(images, labels);
}

/**
 * The training set from `base` (e.g. "data/"): NAME.gz or NAME for both training files, asking only for the ones
 * `base`index.json lists where the server has that list (`npm run playground`'s does), else trying each. Null when
 * the files are not there: the page then says what to do.
 */
export async function fetchTrainSet(base: string, fetchFn: typeof fetch = fetch): Promise<LabelledImages | null> {
  let listed: string[] | null = null;
  const index = await fetchFn(`${base}index.json`);
  if (index.ok) listed = ((await index.json()) as { files?: string[] }).files ?? [];
  const get = async (name: string): Promise<{ name: string; bytes: Uint8Array } | null> => {
    for (const f of [`${name}.gz`, name]) {
      if (listed && !listed.includes(f)) continue;
      const res = await fetchFn(`${base}${f}`);
      if (res.ok) return { name: f, bytes: new Uint8Array(await res.arrayBuffer()) };
      if (res.status !== 404) throw new PageDataError(`${base}${f}: HTTP ${res.status}`);
    }
    return null;
  };
  const images = await get(FILES.trainImages.name);
  const labels = images && (await get(FILES.trainLabels.name));
  if (!images || !labels) return null;
  return trainSetFrom(images, labels);
}
