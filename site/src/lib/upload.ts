import { apiUrl, missingKeyError } from "./api";
import { getKey } from "./key-store";
import { ApiError, toProblem } from "./problem";

export interface UploadResult<T> {
  body: T;
  ms: number;
  header(name: string): string | null;
}

/** The headers of an answered XMLHttpRequest, as fetch would give them. */
function responseHeaders(request: XMLHttpRequest): Headers {
  const headers = new Headers();
  for (const line of request.getAllResponseHeaders().trim().split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}

/**
 * POSTs a multipart upload (to POST /api/upload unless `path` names another upload operation,
 * such as /api/v1/images/upload) with XMLHttpRequest, the one browser API that reports upload
 * progress. `onProgress` receives 0..1; the key goes in the X-API-Key header only.
 */
export function uploadFile<T>(
  form: FormData,
  onProgress: (fraction: number) => void,
  path = "/api/upload",
): Promise<UploadResult<T>> {
  const key = getKey("project");
  if (!key) return Promise.reject(missingKeyError("project"));
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    const started = performance.now();
    request.open("POST", apiUrl(path));
    request.setRequestHeader("X-API-Key", key);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      let body: unknown = request.responseText;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // Not JSON: the problem quotes the text.
      }
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve({ body: body as T, ms: performance.now() - started, header: (name) => request.getResponseHeader(name) });
      } else
        reject(new ApiError(request.status, toProblem(request.status, request.statusText, body), body, responseHeaders(request)));
    });
    request.addEventListener("error", () =>
      reject(new ApiError(0, { title: "Network error", detail: "The upload did not reach the API." })),
    );
    request.send(form);
  });
}

/** Downloads `url` in full and returns how long it took, to show delivery speed. */
export async function timeDownload(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { cache: "no-store" });
  await response.arrayBuffer();
  if (!response.ok) throw new ApiError(response.status, { title: `Download failed (${response.status})` });
  return performance.now() - started;
}
