/** A project's transformation settings, kept as one JSON document on the project row. */
export interface WatermarkSettings {
  /** One of the project's images; its storage key is resolved when the setting is saved. */
  imageId: string;
  storageKey: string;
  /** Where the mark sits on the output (a side, a corner or the centre). */
  position: string;
  /** 0 (invisible) to 1 (as drawn). */
  opacity: number;
  /** Width of the mark as a fraction of the output's width. */
  scale: number;
  /** Distance from the edges, in output pixels. */
  margin: number;
}

export interface ProjectImageSettings {
  /** Named option sets, e.g. `{ "card": "w=600&h=400&fit=cover" }`. */
  presets: Record<string, string>;
  watermark: WatermarkSettings | null;
  /** Apply the watermark to every transformed response unless the URL says `watermark=0`. */
  watermarkByDefault: boolean;
}

export const DEFAULT_IMAGE_SETTINGS: ProjectImageSettings = { presets: {}, watermark: null, watermarkByDefault: false };
