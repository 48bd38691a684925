/**
 * How the Worker's MozJPEG encodes JPEG: as sharp does with `mozjpeg: true` (libvips) and as
 * cjpeg does by default. Kept apart from the codec so that Node code (the bytes-and-PSNR test
 * against sharp) encodes with exactly the settings the Worker uses.
 */
import type { EncodeOptions } from "@jsquash/jpeg/meta.js";

/** From this quality up, chroma keeps full resolution (4:4:4), as libvips and ImageMagick decide. */
export const FULL_CHROMA_FROM_QUALITY = 90;

/**
 * Every option spelled out, so a change of the package's defaults cannot change our bytes.
 * MozJPEG's default profile already applies trellis quantisation, overshoot deringing and its
 * searched progressive scan script (the scan count stays far below the inspector's
 * MAX_JPEG_SCANS). The trellis refinements stay at cjpeg's defaults: turning all three on saves
 * 1-4% of the bytes but loses PSNR (37.88 against 37.93 dB for a 960x640 photo) and costs more
 * CPU.
 */
export function jpegEncodeOptions(quality: number): EncodeOptions {
  return {
    quality,
    baseline: false,
    arithmetic: false,
    progressive: true,
    optimize_coding: true,
    smoothing: 0,
    color_space: 3, // YCbCr
    quant_table: 3, // ImageMagick's table, cjpeg's and sharp's choice
    trellis_multipass: false,
    trellis_opt_zero: false,
    trellis_opt_table: false,
    trellis_loops: 1,
    // The package's automatic choice halves chroma only horizontally (4:2:2) at quality 80-89:
    // 8-54% more bytes than sharp's 4:2:0 at q82 for 0.2-0.6 dB the eye barely sees
    // (bench/results/observations.md).
    auto_subsample: false,
    chroma_subsample: quality >= FULL_CHROMA_FROM_QUALITY ? 1 : 2,
    separate_chroma_quality: false,
    chroma_quality: quality,
  };
}
