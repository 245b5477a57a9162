// idx.ts — parse and write the IDX format of (Fashion-)MNIST (big-endian header: 0x00 0x00 type ndim, then ndim
// u32 sizes, then the data). Pure TypeScript on bytes: the Node edge (src/node/fashion_mnist.ts) reads and
// gunzips the files. Every check says which file and what is wrong.

export class IdxError extends Error {}

export interface Idx {
  dims: number[];
  data: Uint8Array;
}

/** parse an unsigned-byte IDX file (type 0x08), checking the magic number, rank and length */
export function parseIdx(bytes: Uint8Array, name: string, expectRank?: number): Idx {
  if (bytes.length < 4)
    throw new IdxError(`${name}: ${bytes.length} bytes is too short for an IDX header (corrupt or truncated file)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = bytes[2];
  const rank = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type !== 0x08 || rank < 1 || rank > 4)
    throw new IdxError(
      `${name}: bad magic number 0x${magic.toString(16).padStart(8, '0')} (want 0x0000080${expectRank ?? 'N'}: unsigned-byte IDX); not an IDX file, or still gzip-compressed?`,
    );
  if (expectRank !== undefined && rank !== expectRank)
    throw new IdxError(
      `${name}: IDX rank ${rank}, expected ${expectRank} (${expectRank === 3 ? 'images N×rows×cols' : 'labels N'})`,
    );
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new IdxError(`${name}: truncated IDX header`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const n = dims.reduce((a, d) => a * d, 1);
  if (bytes.length - header !== n)
    throw new IdxError(
      `${name}: header says ${dims.join('×')} = ${n} bytes of data but the file has ${bytes.length - header} (${bytes.length - header < n ? 'truncated' : 'trailing bytes'})`,
    );
  return { dims, data: bytes.subarray(header) };
}

/** an unsigned-byte IDX file for `data` shaped `dims` */
export function writeIdx(dims: readonly number[], data: ArrayLike<number>): Uint8Array {
  const n = dims.reduce((a, d) => a * d, 1);
  if (data.length !== n) throw new IdxError(`writeIdx: ${data.length} values for dims ${dims.join('×')}`);
  const out = new Uint8Array(4 + 4 * dims.length + n);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** images [N][rows][cols] plus labels [N] in [0, classes) */
export interface LabelledImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export function parseImagesAndLabels(
  imageBytes: Uint8Array,
  labelBytes: Uint8Array,
  names: [string, string],
  classes = 10,
  size?: [number, number],
): LabelledImages {
  const im = parseIdx(imageBytes, names[0], 3);
  const lb = parseIdx(labelBytes, names[1], 1);
  const [count, rows, cols] = im.dims;
  if (size && (rows !== size[0] || cols !== size[1]))
    throw new IdxError(`${names[0]}: images are ${rows}×${cols}, expected ${size[0]}×${size[1]}`);
  if (lb.dims[0] !== count) throw new IdxError(`${names[1]}: ${lb.dims[0]} labels for ${count} images in ${names[0]}`);
  for (let i = 0; i < count; i++)
    if (lb.data[i] >= classes)
      throw new IdxError(`${names[1]}: label ${lb.data[i]} at index ${i} is outside 0..${classes - 1}`);
  return { images: im.data, labels: lb.data, count, rows, cols };
}
