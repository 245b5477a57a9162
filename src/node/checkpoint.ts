// node/checkpoint.ts — checkpoint files on disk (the Node edge of src/nn/checkpoint.ts). Writes are atomic: the
// bytes go to `<path>.tmp-<pid>`, are fsynced, and the temp file is renamed over the target (then the directory
// is fsynced where the OS allows), so a crash or an error mid-write leaves the previous checkpoint intact and a
// failed write removes its temp file. Reads say whether the file is missing, unreadable, or not a (complete)
// safetensors file. A shipped file (models/) has `<file>.sha256` beside it: every read checks it, since scores
// measured with a changed file would not be the recorded ones.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname } from 'node:path';
import { decodeSafetensors, type Safetensors } from '../nn/safetensors.js';
import { CheckpointError, stateToSafetensors, type EngineState } from '../nn/checkpoint.js';

export class CheckpointFileError extends Error {}

const CHUNK = 1 << 20;

/** write `bytes` to `path` atomically (see the file's header); throws CheckpointFileError naming the path */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o644);
  } catch (e) {
    throw new CheckpointFileError(`cannot write ${path}: cannot create ${tmp} (${(e as Error).message})`);
  }
  try {
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, Math.min(CHUNK, bytes.length - off));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CheckpointFileError(
      `cannot write ${path} (the previous file, if any, is unchanged): ${(e as Error).message}`,
    );
  }
  // make the rename itself durable; not possible on every platform (e.g. Windows), where it is skipped
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* best effort */
  }
}

/**
 * Read and decode a checkpoint file; throws CheckpointFileError (missing, unreadable), CheckpointError (not the
 * file its .sha256 records) or SafetensorsError (damaged)
 */
export function readCheckpoint(path: string, ship?: string): Safetensors {
  return decodeSafetensors(readCheckpointBytes(path, ship), path);
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Where `<path>.sha256` exists, `bytes` must have that hash: a CheckpointError otherwise, saying how to get
 * the recorded file back or to record a new one (`ship`: the command that writes it).
 */
export function checkRecordedHash(path: string, bytes: Uint8Array, ship = 'its --ship command'): void {
  const recorded = `${path}.sha256`;
  if (!existsSync(recorded)) return;
  const want = readFileSync(recorded, 'utf8').trim().split(/\s+/)[0];
  const hash = sha256(bytes);
  if (want !== hash)
    throw new CheckpointError(
      `${path}: SHA-256 ${hash} differs from the one recorded in ${recorded} (${want}): the file changed, so its scores would not be the recorded ones; restore it (git checkout -- ${path}) or ship a new one with ${ship}`,
    );
}

/** write `bytes` to `path` and `<path>.sha256` beside it (both atomically); returns the hash */
export function writeWithHash(path: string, bytes: Uint8Array): string {
  writeFileAtomic(path, bytes);
  const hash = sha256(bytes);
  writeFileAtomic(`${path}.sha256`, new TextEncoder().encode(`${hash}  ${basename(path)}\n`));
  return hash;
}

/**
 * A checkpoint file's bytes, with CheckpointFileError for a missing or unreadable file, CheckpointError for one
 * that differs from the hash recorded beside it (`ship` names the command that writes a new one).
 */
export function readCheckpointBytes(path: string, ship?: string): Uint8Array {
  const bytes = readFileBytes(path);
  checkRecordedHash(path, bytes, ship);
  return bytes;
}

function readFileBytes(path: string): Uint8Array {
  let buf: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new CheckpointFileError(`checkpoint ${path} is a directory, not a file`);
    buf = readFileSync(path);
  } catch (e) {
    if (e instanceof CheckpointFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointFileError(`checkpoint ${path} does not exist`);
    throw new CheckpointFileError(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** read the state's tensors back and write them with its meta to `path` atomically */
export async function saveCheckpoint(path: string, state: EngineState): Promise<void> {
  writeFileAtomic(path, await stateToSafetensors(state));
}
