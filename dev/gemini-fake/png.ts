import { crc32, deflateSync } from "node:zlib";

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A valid 8-bit RGB PNG whose pixels `fill` writes, row by row (3 bytes a pixel). */
export function encodeRgbPng(width: number, height: number, fill: (row: Buffer, y: number) => void): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // colour type: RGB
  const stride = width * 3 + 1;
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    rows[y * stride] = 0; // filter: none
    fill(rows.subarray(y * stride + 1, (y + 1) * stride), y);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows, { level: 1 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A gradient tinted by `seed`, so different prompts give different pictures. */
export function encodePng(width: number, height: number, seed: number): Buffer {
  const [r, g, b] = [seed & 0xff, (seed >> 8) & 0xff, (seed >> 16) & 0xff];
  return encodeRgbPng(width, height, (row, y) => {
    for (let x = 0; x < width; x++) {
      row[x * 3] = (r + (x * 255) / width) & 0xff;
      row[x * 3 + 1] = (g + (y * 255) / height) & 0xff;
      row[x * 3 + 2] = b;
    }
  });
}
