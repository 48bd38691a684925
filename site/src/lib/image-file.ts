import { aspectRatio, formatMegapixels } from "./format";

export interface ImageFacts {
  width: number;
  height: number;
  ratio: string;
}

/** Reads a local image's dimensions by decoding it in the browser; nothing leaves the machine. */
export function readImageFacts(url: string): Promise<ImageFacts> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.addEventListener("load", () =>
      resolve({
        width: image.naturalWidth,
        height: image.naturalHeight,
        ratio: aspectRatio(image.naturalWidth, image.naturalHeight),
      }),
    );
    image.addEventListener("error", () => reject(new Error("The browser cannot read this file as an image.")));
    image.src = url;
  });
}

/** The pixel check, once the browser has read the dimensions; `maxPixels` is /api/info's `limits.maxImagePixels`. */
export function checkPixels(facts: ImageFacts, maxPixels: number): string[] {
  const pixels = facts.width * facts.height;
  return pixels > maxPixels
    ? [
        `The image has ${formatMegapixels(pixels)} (${facts.width}×${facts.height}); the limit is ${formatMegapixels(maxPixels)} (${maxPixels} pixels).`,
      ]
    : [];
}

/** The checks the API will make that can be made before sending: type and size. */
export function checkFile(file: File, limits: { maxUploadBytes: number; types: string[] }): string[] {
  const problems: string[] = [];
  if (!limits.types.includes(file.type))
    problems.push(`${file.type || "This file type"} is not accepted: use ${limits.types.join(", ")}.`);
  if (file.size > limits.maxUploadBytes)
    problems.push(
      `The file is ${file.size} bytes; the limit is ${limits.maxUploadBytes} bytes (${limits.maxUploadBytes / 1024 / 1024} MB).`,
    );
  if (file.size === 0) problems.push("The file is empty.");
  return problems;
}
