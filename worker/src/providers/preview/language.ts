import { detectAll } from "tinyld/light";

/**
 * Function words of the languages prompts most often come in. Prompts are short ("a red
 * bicycle"), where trigram statistics alone guess wrong; one of these words is strong evidence.
 */
const FUNCTION_WORDS: Record<string, string[]> = {
  en: ["a", "an", "the", "of", "on", "in", "with", "and", "at", "over", "under", "for", "from", "by", "is", "its"],
  es: ["el", "la", "los", "las", "un", "una", "de", "del", "en", "con", "y", "sobre", "por", "para"],
  fr: ["le", "la", "les", "un", "une", "des", "du", "de", "et", "sur", "avec", "dans", "au", "aux"],
  de: ["der", "die", "das", "ein", "eine", "einem", "und", "mit", "im", "auf", "von", "über", "unter"],
  it: ["il", "lo", "la", "gli", "le", "un", "una", "di", "del", "della", "e", "con", "su", "nel"],
  pt: ["o", "a", "os", "as", "um", "uma", "de", "do", "da", "e", "com", "em", "no", "na", "sobre"],
  nl: ["de", "het", "een", "van", "en", "met", "op", "in", "onder", "over"],
};
const FUNCTION_WORD_WEIGHT = 0.1;

/**
 * The language of a prompt as an ISO 639-1 code, or null when it cannot be told. tinyld's light
 * model (about 70 KB) ranks candidates from character statistics; function words re-rank them.
 */
export function detectLanguage(text: string): string | null {
  const candidates = detectAll(text);
  if (candidates.length === 0) return null;
  const words = new Set(text.toLowerCase().match(/\p{L}+/gu) ?? []);
  const scored = candidates.map(({ lang, accuracy }) => {
    const hits = (FUNCTION_WORDS[lang] ?? []).filter((word) => words.has(word)).length;
    return { lang, score: accuracy + hits * FUNCTION_WORD_WEIGHT };
  });
  scored.sort((a, b) => b.score - a.score);
  const best = scored[0]?.lang ?? "";
  return /^[a-z]{2}$/.test(best) ? best : null;
}
