/**
 * Copies text and says so in `feedback` (an aria-live element). Where the Clipboard API is
 * refused (no permission, insecure origin), the text is selected for Ctrl+C instead.
 */
export async function copyText(
  text: string,
  feedback: HTMLElement,
  select?: HTMLInputElement | HTMLTextAreaElement,
): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    feedback.textContent = "Copied to the clipboard.";
  } catch {
    select?.focus();
    select?.select();
    feedback.textContent = "Copying was refused by the browser: the text is selected, press Ctrl+C (⌘C).";
  }
}
