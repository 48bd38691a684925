/** One page of a cursor-paged listing, as the API's list endpoints answer it. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  /** Wall time of the call, when the caller measured it. */
  ms?: number;
}

/** A page ready to be shown, with where it sits in the list. */
export interface ShownPage<T> {
  items: T[];
  /** 0 for the first page. */
  index: number;
  hasMore: boolean;
  ms: number;
  /** False once a newer load has started: work the page does later (after an await) checks it. */
  current(): boolean;
}

/** How a load ended; `ignored` when it never started (another was running, or no such page). */
export type LoadOutcome = { state: "shown" } | { state: "failed"; error: unknown } | { state: "stale" } | { state: "ignored" };

export interface PagedListOptions<F, T> {
  /** Fetches one page for these filters; `cursor` is null for the first page. */
  fetchPage(filters: F, cursor: string | null): Promise<Page<T>>;
  /** Draws a page: replace on index 0 (or always, for a pager), append for “more”. */
  show(page: ShownPage<T>): void;
  /** Shows why a page failed; the pages already shown stay valid. */
  fail(error: unknown, index: number): void;
  /** Told when a load starts and when the newest one ends, to mark controls busy. */
  loading?(busy: boolean): void;
  /** A “More” button: loads the next page, is aria-disabled while a load runs and hidden when there is none. */
  more?: {
    button: HTMLButtonElement;
    /** Where focus goes when the focused button hides after the last page, so it does not drop to <body>. */
    focusAfterLast: HTMLElement;
  };
}

export interface PagedList<F> {
  /** Starts over from the first page with these filters; answers still on their way for older loads are dropped. */
  start(filters: F): Promise<LoadOutcome>;
  /** Starts over with the filters of the current list (after a change elsewhere, such as a revocation). */
  reload(): Promise<LoadOutcome>;
  /** Loads page `index` of the current list with the filters that produced its cursors; ignored while a load runs. */
  go(index: number): Promise<LoadOutcome>;
  /** The page after the one shown (after a failed “more”, that same page again). */
  next(): Promise<LoadOutcome>;
  /** Index of the page shown last, -1 before the first one. */
  readonly shown: number;
  /** Index of the page whose load failed last, null once a page is shown. */
  readonly failed: number | null;
  readonly hasMore: boolean;
  readonly loading: boolean;
}

/**
 * Keyset paging for a list endpoint, shared by the gallery and the admin lists. Every load takes a
 * ticket and only the newest one may draw, so quick refreshes cannot land out of order; a further
 * page always uses the filters that produced its cursor, not whatever the form says now; and a
 * further page is refused while another load runs, so a double click cannot add a page twice.
 */
export function pagedList<F, T>(options: PagedListOptions<F, T>): PagedList<F> {
  let filters: F | undefined;
  /** cursors[i] fetches page i; page 0 has none. */
  let cursors: (string | null)[] = [null];
  let shown = -1;
  let failed: number | null = null;
  let ticket = 0;
  let loading = false;

  const hasMore = () => cursors.length > shown + 1 && shown >= 0;

  function setLoading(busy: boolean) {
    loading = busy;
    options.loading?.(busy);
    const more = options.more;
    if (!more) return;
    if (busy) {
      more.button.setAttribute("aria-disabled", "true");
      return;
    }
    more.button.removeAttribute("aria-disabled");
    // After a failed “more” the button stays: it retries that page.
    const hide = !(hasMore() || (failed !== null && failed > 0));
    if (hide && document.activeElement === more.button) more.focusAfterLast.focus();
    more.button.hidden = hide;
  }

  async function load(index: number): Promise<LoadOutcome> {
    const mine = ++ticket;
    const current = () => mine === ticket;
    const used = filters as F;
    setLoading(true);
    try {
      const page = await options.fetchPage(used, cursors[index] ?? null);
      if (!current()) return { state: "stale" };
      cursors = cursors.slice(0, index + 1);
      if (page.nextCursor) cursors.push(page.nextCursor);
      shown = index;
      failed = null;
      options.show({ items: page.items, index, hasMore: hasMore(), ms: page.ms ?? 0, current });
      return { state: "shown" };
    } catch (error) {
      if (!current()) return { state: "stale" };
      failed = index;
      options.fail(error, index);
      return { state: "failed", error };
    } finally {
      if (current()) setLoading(false);
    }
  }

  const list: PagedList<F> = {
    start(next) {
      filters = next;
      cursors = [null];
      shown = -1;
      failed = null;
      return load(0);
    },
    reload() {
      return filters === undefined ? Promise.resolve({ state: "ignored" }) : list.start(filters);
    },
    go(index) {
      if (loading || filters === undefined || index < 0 || index >= cursors.length) return Promise.resolve({ state: "ignored" });
      return load(index);
    },
    next() {
      return list.go(shown + 1);
    },
    get shown() {
      return shown;
    },
    get failed() {
      return failed;
    },
    get hasMore() {
      return hasMore();
    },
    get loading() {
      return loading;
    },
  };
  options.more?.button.addEventListener("click", () => {
    void list.next();
  });
  return list;
}
