import { describe, expect, it } from "vitest";
import type { ReferenceLabel } from "../src/domain/references";
import { enhancePrompt, lookUpPromptCache } from "../src/services/enhancement";
import { withDb } from "./support/fixtures";
import { fakeRequests, freshProjectKey, marker, scriptFake } from "./support/generation";
import { geminiModels, offlineModels } from "./support/references";

/** Makes the fake text model answer prompts holding `tag` with a valid enhancement. */
async function scriptEnhancement(tag: string) {
  await scriptFake({
    marker: tag,
    model: "gemini-2.5-flash",
    text: JSON.stringify({
      enhancedPrompt: `image 1 with a red scarf ${tag}`,
      detectedLanguage: "en",
      translated: false,
      improvements: [],
    }),
  });
}

/** enhancePrompt as a generation runs it, waiting for its deferred cache write before answering. */
async function enhance(projectId: string, prompt: string, references: ReferenceLabel[]) {
  return withDb(async (db) => {
    const deferred: Promise<unknown>[] = [];
    const deps = { db, enhancer: geminiModels().enhancer, defer: (task: () => Promise<unknown>) => void deferred.push(task()) };
    const enhancement = await enhancePrompt(deps, projectId, prompt, "general", undefined, references);
    await Promise.all(deferred);
    return enhancement;
  });
}

const systemText = (instruction: unknown) => JSON.stringify(instruction);

describe("the enhancer is told about references", () => {
  it("names how many references the image model gets, and lists their labels, in the text model's request", async () => {
    const { scope } = await freshProjectKey();
    const tag = marker();
    await scriptEnhancement(tag);
    await enhance(scope.project.id, `put a red scarf on @hero ${tag}`, [{ label: "@hero" }, { label: null }]);

    const [call] = await fakeRequests(tag);
    expect(systemText(call?.body.systemInstruction)).toContain(
      "The image model will also receive 2 reference images that you cannot see",
    );
    expect(systemText(call?.body.systemInstruction)).toContain("Keep every @word verbatim");
    expect(JSON.parse(call?.body.contents[0]?.parts[0]?.text ?? "")).toEqual({
      prompt: `put a red scarf on @hero ${tag}`,
      template: "general",
      references: [
        { image: 1, label: "@hero" },
        { image: 2, label: null },
      ],
    });
  });

  it("says nothing of references when there are none, as before", async () => {
    const { scope } = await freshProjectKey();
    const tag = marker();
    await scriptEnhancement(tag);
    await enhance(scope.project.id, `a red scarf ${tag}`, []);

    const [call] = await fakeRequests(tag);
    expect(systemText(call?.body.systemInstruction)).not.toContain("reference");
    expect(JSON.parse(call?.body.contents[0]?.parts[0]?.text ?? "")).toEqual({
      prompt: `a red scarf ${tag}`,
      template: "general",
    });
  });

  it("never serves an enhancement cached for other references (or none) to the same prompt", async () => {
    const { scope, key } = await freshProjectKey();
    const tag = marker();
    await scriptEnhancement(tag);
    const prompt = `make @hero wear a red scarf ${tag}`;
    const runs: [ReferenceLabel[], boolean][] = [
      [[], false],
      [[], true],
      [[{ label: "@hero" }], false],
      [[{ label: "@hero" }], true],
      [[{ label: "@hero" }, { label: null }], false],
      [[{ label: "@villain" }], false],
    ];
    for (const [references, cached] of runs) {
      expect((await enhance(scope.project.id, prompt, references)).cached, JSON.stringify(references)).toBe(cached);
    }
    expect(await fakeRequests(tag)).toHaveLength(4);

    // The read made alongside authentication finds the same entries.
    const lookup = (references: ReferenceLabel[]) =>
      withDb((db) => lookUpPromptCache({ db, enhancer: geminiModels().enhancer }, key.hash, prompt, "general", references));
    expect((await lookup([{ label: "@hero" }]))?.hit).toBeDefined();
    expect((await lookup([{ label: "@other" }]))?.hit).toBeUndefined();
  });

  it("offline, asks for consistency with the references and leaves out the template's backdrop", async () => {
    const { enhancer } = offlineModels();
    const plain = await enhancer.enhance({ prompt: "a teapot", template: "product" });
    const edit = await enhancer.enhance({ prompt: "a teapot", template: "product", references: [{ label: "@teapot" }] });
    const two = await enhancer.enhance({
      prompt: "a teapot",
      template: "product",
      references: [{ label: null }, { label: null }],
    });

    expect(plain.enhancedPrompt).toContain("seamless neutral backdrop");
    expect(edit.enhancedPrompt).toMatch(/^a teapot, consistent with the reference image, /);
    expect(edit.enhancedPrompt).not.toContain("backdrop");
    expect(two.enhancedPrompt).toMatch(/^a teapot, consistent with the reference images, /);
  });
});
