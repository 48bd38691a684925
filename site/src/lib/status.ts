import { renderProblem } from "./problem";

/**
 * Drives one status region (an element with role="status" or aria-live): progress while a call
 * runs, a short success line, or a readable problem. Screen readers hear each change.
 */
export interface StatusRegion {
  busy(message: string): void;
  done(message: string): void;
  fail(error: unknown): void;
  clear(): void;
  /** The error shown now, if the region shows one. */
  error(): unknown;
}

export function statusRegion(element: HTMLElement): StatusRegion {
  let shownError: unknown;
  const set = (state: "busy" | "done" | "error" | "idle", ...content: (Node | string)[]) => {
    shownError = undefined;
    // Counts changes, so a test can wait for the outcome of its own action rather than an earlier one.
    element.dataset.seq = String(Number(element.dataset.seq ?? 0) + 1);
    element.dataset.state = state;
    element.setAttribute("aria-busy", String(state === "busy"));
    element.replaceChildren(...content);
  };
  return {
    busy(message) {
      const spinner = document.createElement("span");
      spinner.className = "spinner";
      spinner.setAttribute("aria-hidden", "true");
      set("busy", spinner, message);
    },
    done(message) {
      set("done", message);
    },
    fail(error) {
      set("error", renderProblem(error));
      shownError = error;
    },
    clear() {
      set("idle");
    },
    error() {
      return shownError;
    },
  };
}
