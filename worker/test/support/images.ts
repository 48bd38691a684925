import type { ApiBody, Schema } from "../../../site/src/lib/api-contract";
import { encodeImage } from "../../src/images/codec";
import { api } from "./app";

/** A real encoded image of the given format and size. */
export async function imageFile(format: "png" | "jpeg" | "webp", width = 64, height = 48): Promise<Uint8Array> {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = (i / 4) % 256;
    data[i + 1] = 120;
    data[i + 2] = 200;
    data[i + 3] = 255;
  }
  return (await encodeImage({ data, width, height }, format)).bytes;
}

export function formWith(
  bytes: Uint8Array,
  name: string,
  fields: Record<string, string> = {},
  type = "application/octet-stream",
): FormData {
  const form = new FormData();
  form.append("file", new File([bytes], name, { type }));
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  return form;
}

/** An upload as POST /api/upload answers it. */
export type UploadJson = Schema<"Upload">;

export async function upload(key: string, form: FormData, env: Record<string, unknown> = {}) {
  const response = await api("/api/upload", { key, form, env });
  return {
    response,
    data: response.status === 201 ? ((await response.clone().json()) as ApiBody<"uploadImage", 201>).data : null,
  };
}
