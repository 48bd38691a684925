import { aspectRatio } from "./format";

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

/** The API's pixel limit (README: 4096×4096), used while /api/info does not publish it. */
export const DEFAULT_MAX_PIXELS = 4096 * 4096;

/** The pixel check, once the browser has read the dimensions. */
export function checkPixels(facts: ImageFacts, maxPixels: number): string[] {
  return facts.width * facts.height > maxPixels
    ? [`The image has ${facts.width * facts.height} pixels; the limit is ${maxPixels} (4096×4096 for a square image).`]
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
