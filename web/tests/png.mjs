// A tiny PNG encoder (8-bit greyscale or RGB, no interlace) for the test's images.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** `samples` is width*height*channels bytes, row-major; 1 channel: grey, 3: RGB. */
export function encodePng(width, height, samples, channels = 1) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = channels === 3 ? 2 : 0; // RGB or greyscale
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    for (let x = 0; x < stride; x++) raw[y * (stride + 1) + 1 + x] = samples[y * stride + x];
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An 8x8 digit of grey levels 0..16 (the digits model's input) drawn `cell` pixels a level. */
export function digitPng(levels, cell = 8) {
  const side = 8 * cell;
  const grey = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      grey[y * side + x] = Math.round((levels[Math.floor(y / cell) * 8 + Math.floor(x / cell)] * 255) / 16);
    }
  }
  return encodePng(side, side, grey);
}

/**
 * What `gateless job submit --input x.png` sends for an image (client/src/input.rs, `from_png`),
 * ported here to check the page against: grey = mean of the colour channels / 255, averaged over
 * integer cell bounds down to rows x columns, times `scale`, as f32 little-endian.
 */
export function rustImageTensor(width, height, samples, channels, rows, columns, scale) {
  const grey = [];
  for (let i = 0; i < width * height; i++) {
    let sum = 0;
    for (let c = 0; c < Math.min(channels, 3); c++) sum += samples[i * channels + c];
    grey.push(sum / Math.min(channels, 3) / 255);
  }
  const out = Buffer.alloc(rows * columns * 4);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const [y0, y1] = [Math.floor((row * height) / rows), Math.floor(((row + 1) * height) / rows)];
      const [x0, x1] = [Math.floor((column * width) / columns), Math.floor(((column + 1) * width) / columns)];
      let sum = 0;
      for (let y = y0; y < y1; y++) {
        let line = 0;
        for (let x = x0; x < x1; x++) line += grey[y * width + x];
        sum += line;
      }
      out.writeFloatLE((sum / ((y1 - y0) * (x1 - x0))) * scale, (row * columns + column) * 4);
    }
  }
  return `0x${out.toString('hex')}`;
}
