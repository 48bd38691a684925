export type ImageFormat = "png" | "jpeg" | "webp";

/** What the inspector vouches for: the format and the size its decoder will produce. */
export interface ImageHeader {
  format: ImageFormat;
  mimeType: `image/${ImageFormat}`;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}
