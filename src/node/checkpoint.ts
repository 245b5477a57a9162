// node/checkpoint.ts — checkpoint files on disk (the Node edge of src/nn/checkpoint.ts). Writes are atomic: the
// bytes go to `<path>.tmp-<pid>`, are fsynced, and the temp file is renamed over the target (then the directory
// is fsynced where the OS allows), so a crash or an error mid-write leaves the previous checkpoint intact and a
// failed write removes its temp file. Reads say whether the file is missing, unreadable, or not a (complete)
// safetensors file.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeSafetensors, type Safetensors } from '../nn/safetensors.js';
import { stateToSafetensors, type EngineState } from '../nn/checkpoint.js';

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
    throw new CheckpointFileError(`cannot write ${path} (the previous file, if any, is unchanged): ${(e as Error).message}`);
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

/** read and decode a checkpoint file; throws CheckpointFileError (missing, unreadable) or SafetensorsError (damaged) */
export function readCheckpoint(path: string): Safetensors {
  return decodeSafetensors(readCheckpointBytes(path), path);
}

/** a checkpoint file's bytes, with CheckpointFileError for a missing or unreadable file */
export function readCheckpointBytes(path: string): Uint8Array {
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
