// Tensors as a job carries them (dtype, shape, row-major little-endian bytes), read from the
// files a user picks (.json, .npy, .png) the way the `gateless` client reads them
// (client/src/input.rs), and written back (.npy, JSON) for downloads.

import type { Dimension, TensorSpec } from './types';

export interface Tensor {
  /** `f32`, `i64`, ... as in `gateless_model`'s signature. */
  dtype: string;
  shape: number[];
  /** Row-major, little-endian element bytes. */
  data: Uint8Array;
}

const WIDTHS: Record<string, number> = {
  i8: 1, u8: 1, bool: 1, f16: 2, i16: 2, u16: 2, f32: 4, i32: 4, u32: 4, f64: 8, i64: 8, u64: 8,
};

export function elementWidth(dtype: string): number {
  const width = WIDTHS[dtype];
  if (!width) throw new Error(`unknown dtype \`${dtype}\``);
  return width;
}

export function elementCount(shape: number[]): number {
  return shape.reduce((count, size) => count * size, 1);
}

/** A declared shape as text: sizes, symbols by name, `?` for anonymous dynamic dimensions. */
export function shapeText(shape: Dimension[]): string {
  return `[${shape.map((dim) => (dim === null ? '?' : String(dim))).join(', ')}]`;
}

const RANGES: Record<string, [number, number]> = {
  i8: [-128, 127], i16: [-32768, 32767], i32: [-2147483648, 2147483647],
  i64: [-(2 ** 63), 2 ** 63 - 1], u8: [0, 255], u16: [0, 65535], u32: [0, 4294967295],
  u64: [0, 2 ** 64 - 1], bool: [0, 1],
};

/** Encodes numbers as `dtype`, refusing values the type cannot hold (as the Rust client does). */
export function encodeValues(dtype: string, values: number[]): Uint8Array {
  const width = elementWidth(dtype);
  const buffer = new ArrayBuffer(values.length * width);
  const view = new DataView(buffer);
  values.forEach((value, i) => {
    const at = i * width;
    if (dtype === 'f32') return view.setFloat32(at, value, true);
    if (dtype === 'f64') return view.setFloat64(at, value, true);
    if (dtype === 'f16') throw new Error('cannot write f16 values from JSON');
    const [min, max] = RANGES[dtype];
    if (!Number.isFinite(value) || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${value} is not a valid ${dtype}`);
    }
    switch (dtype) {
      case 'i8': return view.setInt8(at, value);
      case 'u8': case 'bool': return view.setUint8(at, value);
      case 'i16': return view.setInt16(at, value, true);
      case 'u16': return view.setUint16(at, value, true);
      case 'i32': return view.setInt32(at, value, true);
      case 'u32': return view.setUint32(at, value, true);
      case 'i64': return view.setBigInt64(at, BigInt(value), true);
      case 'u64': return view.setBigUint64(at, BigInt(value), true);
    }
  });
  return new Uint8Array(buffer);
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** The elements of little-endian bytes as numbers (64-bit integers as Numbers). */
export function decodeValues(dtype: string, data: Uint8Array): number[] {
  const width = elementWidth(dtype);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = Math.floor(data.byteLength / width);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const at = i * width;
    switch (dtype) {
      case 'f32': out[i] = view.getFloat32(at, true); break;
      case 'f64': out[i] = view.getFloat64(at, true); break;
      case 'f16': out[i] = halfToFloat(view.getUint16(at, true)); break;
      case 'i8': out[i] = view.getInt8(at); break;
      case 'u8': case 'bool': out[i] = view.getUint8(at); break;
      case 'i16': out[i] = view.getInt16(at, true); break;
      case 'u16': out[i] = view.getUint16(at, true); break;
      case 'i32': out[i] = view.getInt32(at, true); break;
      case 'u32': out[i] = view.getUint32(at, true); break;
      case 'i64': out[i] = Number(view.getBigInt64(at, true)); break;
      case 'u64': out[i] = Number(view.getBigUint64(at, true)); break;
    }
  }
  return out;
}

function flatten(value: unknown, out: number[]): void {
  if (Array.isArray(value)) value.forEach((item) => flatten(item, out));
  else if (typeof value === 'number') out.push(value);
  else if (typeof value === 'boolean') out.push(value ? 1 : 0);
  else throw new Error(`${JSON.stringify(value)} is not a number`);
}

/** `{"dtype": "f32", "shape": [2, 64], "values": [...]}`, or nested arrays in the model's dtype. */
export function fromJson(text: string, spec: TensorSpec): Tensor {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  let dtype: string;
  let shape: number[];
  const values: number[] = [];
  if (Array.isArray(json)) {
    dtype = spec.dtype;
    shape = [];
    let level: unknown = json;
    while (Array.isArray(level)) {
      shape.push(level.length);
      if (level.length === 0) break;
      level = level[0];
    }
    flatten(json, values);
  } else if (json && typeof json === 'object') {
    const object = json as { dtype?: unknown; shape?: unknown; values?: unknown };
    dtype = (typeof object.dtype === 'string' ? object.dtype : spec.dtype).toLowerCase();
    if (object.shape === undefined) throw new Error('no `shape`');
    if (!Array.isArray(object.shape) || !object.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error('`shape` must be a list of sizes');
    }
    shape = object.shape as number[];
    if (object.values === undefined) throw new Error('no `values`');
    flatten(object.values, values);
  } else {
    throw new Error('expected an object with dtype, shape and values, or nested arrays');
  }
  const count = elementCount(shape);
  if (count !== values.length) {
    throw new Error(`shape [${shape.join(', ')}] holds ${count} values, the file has ${values.length}`);
  }
  return { dtype, shape, data: encodeValues(dtype, values) };
}

const NPY_DTYPES: Record<string, string> = {
  '<f4': 'f32', '<f8': 'f64', '<f2': 'f16', '|i1': 'i8', '<i1': 'i8', '<i2': 'i16', '<i4': 'i32',
  '<i8': 'i64', '|u1': 'u8', '<u1': 'u8', '<u2': 'u16', '<u4': 'u32', '<u8': 'u64', '|b1': 'bool',
};

/** A NumPy `.npy` file (format 1.0–3.0), little-endian, C order. */
export function fromNpy(bytes: Uint8Array): Tensor {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || !magic.every((b, i) => bytes[i] === b)) throw new Error('not a .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  let headerLen: number;
  let start: number;
  if (major === 1) [headerLen, start] = [view.getUint16(8, true), 10];
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error('truncated .npy header');
    [headerLen, start] = [view.getUint32(8, true), 12];
  } else throw new Error(`unsupported .npy version ${major}`);
  if (start + headerLen > bytes.length) throw new Error('truncated .npy header');
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const field = (name: string): string => {
    const key = `'${name}':`;
    const at = header.indexOf(key);
    if (at < 0) throw new Error(`the .npy header has no ${name}`);
    return header.slice(at + key.length).trimStart();
  };
  if (!field('fortran_order').startsWith('False')) throw new Error('Fortran-ordered arrays are not supported');
  const descr = field('descr').replace(/^'/, '').split("'")[0];
  const dtype = NPY_DTYPES[descr];
  if (!dtype) throw new Error(`unsupported .npy dtype \`${descr}\` (little-endian numbers only)`);
  const shapeText = field('shape').replace(/^\(/, '').split(')')[0];
  const shape = shapeText
    .split(',')
    .map((dim) => dim.trim())
    .filter((dim) => dim.length > 0)
    .map((dim) => {
      const size = Number(dim.replace(/L$/, ''));
      if (!Number.isInteger(size) || size < 0) throw new Error(`bad dimension \`${dim}\``);
      return size;
    });
  const data = bytes.slice(start + headerLen);
  const count = elementCount(shape);
  if (data.length !== count * elementWidth(dtype)) throw new Error(`the .npy data does not hold ${count} ${dtype} values`);
  return { dtype, shape, data };
}

const NPY_DESCR: Record<string, string> = {
  f32: '<f4', f64: '<f8', f16: '<f2', i8: '|i1', i16: '<i2', i32: '<i4', i64: '<i8', u8: '|u1',
  u16: '<u2', u32: '<u4', u64: '<u8', bool: '|b1',
};

/** A `.npy` file (format 1.0) of a tensor. */
export function toNpy(tensor: Tensor): Uint8Array {
  const shape = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  let header = `{'descr': '${NPY_DESCR[tensor.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + tensor.data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(tensor.data, 10 + header.length);
  return out;
}

export interface ImageOptions {
  /** Grey levels are read as 0..1 (black to white) and multiplied by this. */
  scale: number;
  /** Reads white as 0 (dark ink on light paper). */
  invert: boolean;
}

/** The per-sample grid an image is averaged down to for `spec` (batch first, then fixed sizes). */
export function imageGrid(spec: TensorSpec): { rows: number; columns: number; sample: number[] } {
  const sample = spec.shape.slice(1).map((dim) => {
    if (typeof dim !== 'number') throw new Error(`the model's input ${shapeText(spec.shape)} is not fixed`);
    return dim;
  });
  const count = elementCount(sample);
  const side = Math.round(Math.sqrt(count));
  if (sample.length >= 2) {
    const [rows, columns] = sample.slice(-2);
    if (rows * columns === count) return { rows, columns, sample };
  }
  if (side * side === count) return { rows: side, columns: side, sample };
  throw new Error(`cannot map an image onto the model's input ${shapeText(spec.shape)}`);
}

/**
 * An image's grey levels averaged down to the model's per-sample size, as a batch of one:
 * exactly what `gateless job submit --input x.png` sends (client/src/input.rs, `from_png`).
 * `rgba` is the decoded image, 4 bytes a pixel; alpha is ignored as the Rust client ignores it.
 */
export function fromPixels(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, spec: TensorSpec, options: ImageOptions): Tensor & { levels: number[]; rows: number; columns: number } {
  const { rows, columns, sample } = imageGrid(spec);
  if (width < columns || height < rows) {
    throw new Error(`the image (${width}x${height}) is smaller than the model's input (${columns}x${rows})`);
  }
  const grey = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    grey[i] = (rgba[4 * i] + rgba[4 * i + 1] + rgba[4 * i + 2]) / 3 / 255;
  }
  const values: number[] = [];
  const levels: number[] = [];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      // The mean of the pixels that fall in this cell, summed row by row as the Rust client does.
      const y0 = Math.floor((row * height) / rows);
      const y1 = Math.floor(((row + 1) * height) / rows);
      const x0 = Math.floor((column * width) / columns);
      const x1 = Math.floor(((column + 1) * width) / columns);
      let sum = 0;
      for (let y = y0; y < y1; y++) {
        let line = 0;
        for (let x = x0; x < x1; x++) line += grey[y * width + x];
        sum += line;
      }
      const mean = sum / ((y1 - y0) * (x1 - x0));
      const level = options.invert ? 1 - mean : mean;
      levels.push(level);
      values.push(level * options.scale);
    }
  }
  const integer = !spec.dtype.startsWith('f');
  const data = encodeValues(spec.dtype, integer ? values.map((v) => Math.round(v)) : values);
  return { dtype: spec.dtype, shape: [1, ...sample], data, levels, rows, columns };
}

/** Decodes a PNG with the browser, without colour management or premultiplied alpha. */
export async function decodeImage(blob: Blob): Promise<{ rgba: Uint8ClampedArray; width: number; height: number }> {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('no 2D canvas');
  context.drawImage(bitmap, 0, 0);
  const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  bitmap.close();
  return { rgba: data, width: canvas.width, height: canvas.height };
}

/** Checks a tensor against the model's declared input, before anything is paid. */
export function checkAgainst(tensor: Tensor, spec: TensorSpec): string | null {
  if (tensor.dtype !== spec.dtype) return `the input is ${tensor.dtype}, the model takes ${spec.dtype} (\`${spec.name}\`)`;
  const fits = tensor.shape.length === spec.shape.length
    && tensor.shape.every((actual, i) => actual > 0 && (typeof spec.shape[i] !== 'number' || spec.shape[i] === actual));
  if (!fits) return `the input has shape [${tensor.shape.join(', ')}], the model takes ${shapeText(spec.shape)}`;
  return null;
}

/** Checks that the inputs give each named symbolic dimension one size. */
export function checkSymbols(tensors: Tensor[], specs: TensorSpec[]): string | null {
  const bound = new Map<string, [number, string]>();
  for (let i = 0; i < tensors.length; i++) {
    const spec = specs[i];
    for (let d = 0; d < spec.shape.length; d++) {
      const dim = spec.shape[d];
      if (typeof dim !== 'string') continue;
      const size = tensors[i].shape[d];
      const seen = bound.get(dim);
      if (seen && seen[0] !== size) return `inputs \`${seen[1]}\` and \`${spec.name}\` disagree on \`${dim}\`: ${seen[0]} and ${size}`;
      if (!seen) bound.set(dim, [size, spec.name]);
    }
  }
  return null;
}

export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let hex = '0x';
  for (let i = 0; i < bytes.length; i++) hex += bytes[i].toString(16).padStart(2, '0');
  return hex;
}
