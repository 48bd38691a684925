import { imageUrl } from "../../delivery/image-urls";
import { readUploadedImage, uploadBaseName } from "../../images/validate-upload";
import { authorizeProject } from "../../middleware/access";
import { storeUpload } from "../../services/uploads";
import type { AppRouteHandler } from "../create-app";
import type { uploadRoute } from "./upload.routes";

export const uploadImage: AppRouteHandler<typeof uploadRoute> = async (c) => {
  const form = c.req.valid("form");
  // Everything about the file is checked before the quota is spent.
  const { bytes, header } = await readUploadedImage(form.file);
  const caller = await authorizeProject(c);

  const stored = await storeUpload(c.var.services, caller, {
    bytes,
    header,
    category: form.category,
    filename: form.filename ?? uploadBaseName(form.file),
  });
  return c.json(
    {
      success: true as const,
      data: {
        id: stored.id,
        url: imageUrl(c, stored.storageKey),
        category: form.category,
        mimeType: header.mimeType,
        bytes: bytes.byteLength,
        width: header.width,
        height: header.height,
        aspectRatio: stored.aspectRatio,
        sha256: stored.sha256,
        filename: stored.filename,
        createdAt: stored.createdAt.toISOString(),
      },
    },
    201,
  );
};
