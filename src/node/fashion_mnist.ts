// node/fashion_mnist.ts — find, (download,) read and check the Fashion-MNIST IDX files. Looks in order: the
// --data directory, $FASHION_MNIST_DIR, ./data, /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
// Files may be gzipped (.gz) or not. When none of those has them and the machine is online, downloads the official
// files into ./data and checks their MD5 against the dataset's README. Every file's decompressed content is checked
// against the official SHA-256, so a corrupt copy is named, not trained on.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { IdxError, parseImagesAndLabels } from '../data/idx.js';
import type { FashionMnist } from '../data/dataset.js';
import { FILES, type FileInfo } from '../data/fashion_files.js';

export class DataError extends Error {}

export const OFFICIAL_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
export const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

export { FILES } from '../data/fashion_files.js';

export interface LoadOptions {
  /** --data DIR (searched first) */
  dir?: string;
  /** try the official download when no directory has the files (default true) */
  download?: boolean;
  /** check the official SHA-256 of every file (default true; tests of tiny fixture files turn it off) */
  verify?: boolean;
  log?: (msg: string) => void;
  /** the system-wide copy searched last (default Debian's; null to skip it, e.g. in tests) */
  systemDir?: string | null;
}

export function searchDirs(opts: LoadOptions = {}): string[] {
  const system = opts.systemDir === undefined ? DEBIAN_DIR : opts.systemDir;
  const dirs = [opts.dir, process.env.FASHION_MNIST_DIR, './data', system].filter((d): d is string => !!d);
  return [...new Set(dirs.map((d) => resolve(d)))];
}

function fileIn(dir: string, base: string): string | null {
  for (const f of [`${base}.gz`, base]) if (existsSync(join(dir, f))) return join(dir, f);
  return null;
}

/** the first directory holding all four files */
export function findDataDir(opts: LoadOptions = {}): string | null {
  for (const d of searchDirs(opts)) if (hasAll(d)) return d;
  return null;
}
const hasAll = (d: string) => Object.values(FILES).every((f) => fileIn(d, f.name));

function readIdxBytes(path: string): Uint8Array {
  const raw = readFileSync(path);
  if (!path.endsWith('.gz')) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  try {
    const b = gunzipSync(raw);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new DataError(
      `${path}: not a valid gzip file (${(e as Error).message}); the download is corrupt or truncated — delete it and fetch it again`,
    );
  }
}

async function download(dir: string, log: (m: string) => void): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const f of Object.values(FILES)) {
    const url = `${OFFICIAL_URL}${f.name}.gz`;
    log(`downloading ${url}`);
    const res = await fetch(url);
    if (!res.ok) throw new DataError(`download of ${url} failed: HTTP ${res.status}`);
    const buf = Buffer.from(await res.arrayBuffer());
    const md5 = createHash('md5').update(buf).digest('hex');
    if (md5 !== f.gzMd5) throw new DataError(`${url}: MD5 ${md5} does not match the official ${f.gzMd5}`);
    const tmp = join(dir, `${f.name}.gz.part`);
    writeFileSync(tmp, buf);
    renameSync(tmp, join(dir, `${f.name}.gz`));
  }
}

export function howToGetData(dirs: string[]): string {
  return [
    `Fashion-MNIST not found. Looked in: ${dirs.join(', ')}.`,
    'Get it with one of:',
    '  sudo apt-get install dataset-fashion-mnist          (Debian; or run scripts/setup.sh)',
    `  download the four *-ubyte.gz files from ${OFFICIAL_URL} into ./data`,
    '  pass --data DIR or set FASHION_MNIST_DIR to a directory that has them',
  ].join('\n');
}

export async function loadFashionMnist(opts: LoadOptions = {}): Promise<FashionMnist> {
  const log = opts.log ?? (() => {});
  // a directory the user names must hold the files: silently training on another copy would hide the mistake
  if (opts.dir && !hasAll(resolve(opts.dir))) {
    const missing = Object.values(FILES)
      .filter((f) => !fileIn(resolve(opts.dir!), f.name))
      .map((f) => `${f.name}[.gz]`);
    throw new DataError(
      `--data ${opts.dir}: ${existsSync(opts.dir) ? `missing ${missing.join(', ')}` : 'no such directory'}; put the four Fashion-MNIST IDX files there, or leave --data out to search ${searchDirs({ ...opts, dir: undefined }).join(', ')}`,
    );
  }
  let dir = findDataDir(opts);
  if (!dir && opts.download !== false) {
    const target = resolve(opts.dir ?? './data');
    try {
      await download(target, log);
      dir = target;
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(
        `${howToGetData(searchDirs(opts))}\n(the download from ${OFFICIAL_URL} failed too: ${(e as Error).message})`,
      );
    }
  }
  if (!dir) throw new DataError(howToGetData(searchDirs(opts)));
  const read = (f: FileInfo): [Uint8Array, string] => {
    const path = fileIn(dir!, f.name)!;
    const bytes = readIdxBytes(path);
    if (opts.verify !== false) {
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== f.sha256)
        throw new DataError(
          `${path}: contents differ from the official Fashion-MNIST (SHA-256 ${sha.slice(0, 12)}…, want ${f.sha256.slice(0, 12)}…); the file is corrupt — delete it and get it again`,
        );
    }
    return [bytes, path];
  };
  try {
    const [ti, tiPath] = read(FILES.trainImages);
    const [tl, tlPath] = read(FILES.trainLabels);
    const [si, siPath] = read(FILES.testImages);
    const [sl, slPath] = read(FILES.testLabels);
    return {
      train: parseImagesAndLabels(ti, tl, [tiPath, tlPath], 10, [28, 28]),
      test: parseImagesAndLabels(si, sl, [siPath, slPath], 10, [28, 28]),
      source: dir,
    };
  } catch (e) {
    if (e instanceof IdxError) throw new DataError(e.message);
    throw e;
  }
}
