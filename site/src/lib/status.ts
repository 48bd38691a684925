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
}

export function statusRegion(element: HTMLElement): StatusRegion {
  const set = (state: "busy" | "done" | "error" | "idle", ...content: (Node | string)[]) => {
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
    },
    clear() {
      set("idle");
    },
  };
}
