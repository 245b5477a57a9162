// eval/idx_samples.ts — reads a pair of sample files so that images made by other tools (another framework's GAN,
// `npm run sample -- --format idx`) can be scored like our own: `--samples FILE` (idx3-ubyte: N×28×28 unsigned
// bytes, 0 black … 255 white, as Fashion-MNIST) and `--labels FILE` (idx1-ubyte: N intended class labels 0–9).
// Either file may be gzip-compressed (recognised by its magic bytes, whatever its name). Every check says which
// file and what is wrong: missing file, bad gzip, wrong magic/rank, image size other than 28×28, truncated or
// trailing data, label count differing from the image count, labels outside 0–9, an empty set.
// The byte-level checks are src/data/idx.ts's; this file adds the Node edge (reading, gunzip) and the messages.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { IdxError, parseImagesAndLabels, type LabelledImages } from '../data/idx.js';

export class SampleFileError extends Error {}

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** the IDX bytes of a file, gunzipped when it is gzip-compressed */
export function readMaybeGzip(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new SampleFileError(`${what} file ${path} does not exist`);
  if (!statSync(path).isFile()) throw new SampleFileError(`${what} file ${path} is not a regular file`);
  const raw = readFileSync(path);
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!isGzip(bytes)) return bytes;
  try {
    const b = gunzipSync(raw);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new SampleFileError(
      `${what} file ${path}: starts like gzip but does not decompress (${(e as Error).message}); truncated or corrupt`,
    );
  }
}

/**
 * Parse an images/labels pair already in memory (decompressed). `names` are used in messages. Images must be
 * N×28×28, labels N values in 0..classes−1, N ≥ 1.
 */
export function parseSamplePair(
  imageBytes: Uint8Array,
  labelBytes: Uint8Array,
  names: [string, string],
  classes = 10,
): LabelledImages {
  let set: LabelledImages;
  try {
    set = parseImagesAndLabels(
      imageBytes,
      labelBytes,
      [`${names[0]} (--samples)`, `${names[1]} (--labels)`],
      classes,
      [28, 28],
    );
  } catch (e) {
    if (e instanceof IdxError)
      throw new SampleFileError(
        `${e.message}. Expected --samples: idx3-ubyte N×28×28 (magic 0x00000803), --labels: idx1-ubyte N (magic 0x00000801).`,
      );
    throw e;
  }
  if (set.count === 0) throw new SampleFileError(`${names[0]} (--samples): holds no images (N = 0)`);
  return set;
}

/** read `--samples FILE --labels FILE` (either gzipped or not) into labelled uint8 images */
export function readSamplePair(samplesPath: string, labelsPath: string, classes = 10): LabelledImages {
  const im = readMaybeGzip(samplesPath, '--samples');
  const lb = readMaybeGzip(labelsPath, '--labels');
  return parseSamplePair(im, lb, [samplesPath, labelsPath], classes);
}
