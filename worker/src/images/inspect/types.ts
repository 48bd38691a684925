export type ImageFormat = "png" | "jpeg" | "webp";

/** What the inspector vouches for: the format and the size its decoder will produce. */
export interface ImageHeader {
  format: ImageFormat;
  mimeType: `image/${ImageFormat}`;
  width: number;
  height: number;
}

declare const vouched: unique symbol;

/**
 * Bytes with the header the inspector read from them. Only `inspectForDecoding` makes one, so a
 * decoder that takes this type is never handed bytes nobody inspected.
 */
export interface InspectedImage extends ImageHeader {
  readonly bytes: Uint8Array;
  readonly [vouched]: true;
}

export interface Size {
  width: number;
  height: number;
}
