import { timeSequential } from "../measure.ts";
import type { Scenario } from "./types.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const ENCODE_SAMPLES = 20;
const PROMPT = "a lighthouse on a cliff at dusk";

/**
 * What the platform adds around the image model: POST /api/text-to-image (PNG out, no
 * enhancement, so nothing to encode) against the zero-delay fake, and the same generateContent
 * call sent straight to the fake. Encoding is reported apart, from the Worker's own timings.
 */
export const generationScenario: Scenario = {
  name: "generation",
  async run({ platform, fake }) {
    const viaPlatform = (outputFormat: string) => () =>
      fetch(`${platform.worker.url}/api/text-to-image`, {
        method: "POST",
        headers: { "X-API-Key": platform.projectKey, "Content-Type": "application/json" },
        body: JSON.stringify({ prompt: PROMPT, autoEnhance: false, outputFormat }),
      });
    const direct = () =>
      fetch(`${fake.url}/v1/models/gemini-2.5-flash-image:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": "bench-key", "Content-Type": "application/json" },
        body: JSON.stringify({
          contents: [{ role: "user", parts: [{ text: PROMPT }] }],
          generationConfig: { responseModalities: ["IMAGE"], imageConfig: { aspectRatio: "1:1" } },
        }),
      });

    const platformTimes = await timeSequential(
      "POST /api/text-to-image (1024x1024 PNG, no enhancement)",
      viaPlatform("png"),
      SAMPLES,
    );
    const directTimes = await timeSequential("the same call straight to the fake", direct, SAMPLES);

    const encodeMs: Record<"webp" | "jpeg", number[]> = { webp: [], jpeg: [] };
    for (let i = 0; i < ENCODE_SAMPLES; i++) {
      for (const format of ["webp", "jpeg"] as const) {
        const body = (await (await viaPlatform(format)()).json()) as { data: { timings: { encodeMs: number } } };
        encodeMs[format].push(body.data.timings.encodeMs);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    return {
      scenario: "generation",
      description: `Generation overhead over a zero-delay Gemini fake: ${SAMPLES} sequential requests each`,
      measurements: [platformTimes, directTimes],
      metrics: {
        generationOverheadMs: platformTimes.medianMs - directTimes.medianMs,
        generationOverheadP99Ms: (platformTimes.p99Ms ?? 0) - (directTimes.p99Ms ?? 0),
        encodeWebpMs: median(encodeMs.webp),
        encodeJpegMs: median(encodeMs.jpeg),
      },
      notes: [
        `Encode 1024x1024 in the Worker: WebP ${median(encodeMs.webp)} ms, JPEG ${median(encodeMs.jpeg)} ms (median of ${ENCODE_SAMPLES})`,
      ],
    };
  },
};
