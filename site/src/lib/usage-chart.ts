import { formatUsdMicros } from "./money";
import type { UsageDay } from "./usage";

/**
 * The daily chart of the usage page: images as bars on the left axis, cost as a line with a dot
 * per day on the right axis. chartLayout is the geometry (pure, unit-tested); usageChart draws
 * it as inline SVG, every bar and dot carrying its day's figures.
 */

const SIZE = { width: 720, height: 240 };
const MARGIN = { top: 16, right: 72, bottom: 32, left: 40 };

export interface ChartTick {
  value: number;
  y: number;
  label: string;
}

export interface ChartLayout {
  width: number;
  height: number;
  plot: { x: number; y: number; width: number; height: number };
  bars: { day: string; x: number; y: number; width: number; height: number; images: number }[];
  points: { day: string; x: number; y: number; usdMicros: number }[];
  imageTicks: ChartTick[];
  costTicks: ChartTick[];
  dayLabels: { day: string; x: number; label: string }[];
}

/** The smallest 1, 2 or 5 times a power of ten at or above `value` (and at least `minimum`): a round axis end. */
export function niceCeiling(value: number, minimum: number): number {
  const target = Math.max(value, minimum);
  const power = 10 ** Math.floor(Math.log10(target));
  return [1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= target) as number;
}

const round = (value: number) => Math.round(value * 100) / 100;

/**
 * `axisDays` is the whole period on the x axis (a month); `series` the days to draw, which may
 * stop earlier (today, in the current month), so days still to come are blank rather than zero.
 */
export function chartLayout(series: UsageDay[], axisDays: string[] = series.map((day) => day.day)): ChartLayout {
  const plot = {
    x: MARGIN.left,
    y: MARGIN.top,
    width: SIZE.width - MARGIN.left - MARGIN.right,
    height: SIZE.height - MARGIN.top - MARGIN.bottom,
  };
  const maxImages = niceCeiling(Math.max(0, ...series.map((day) => day.images)), 1);
  // At least a cent, so halves are whole micros and an empty month still has a readable axis.
  const maxCost = niceCeiling(Math.max(0, ...series.map((day) => day.usdMicros)), 10_000);
  const yOf = (value: number, max: number) => round(plot.y + plot.height - (value / max) * plot.height);
  const slot = plot.width / Math.max(1, axisDays.length);
  const slotOf = new Map(axisDays.map((day, index) => [day, index]));
  const centre = (day: string) => plot.x + ((slotOf.get(day) ?? 0) + 0.5) * slot;
  const labelEvery = Math.ceil(axisDays.length / 8);
  return {
    ...SIZE,
    plot,
    bars: series.map((day) => {
      const y = yOf(day.images, maxImages);
      return {
        day: day.day,
        x: round(centre(day.day) - slot * 0.3),
        y,
        width: round(slot * 0.6),
        height: round(plot.y + plot.height - y),
        images: day.images,
      };
    }),
    points: series.map((day) => ({
      day: day.day,
      x: round(centre(day.day)),
      y: yOf(day.usdMicros, maxCost),
      usdMicros: day.usdMicros,
    })),
    imageTicks: [0, maxImages / 2, maxImages]
      .filter(Number.isInteger)
      .map((value) => ({ value, y: yOf(value, maxImages), label: String(value) })),
    costTicks: [0, maxCost / 2, maxCost].map((value) => ({ value, y: yOf(value, maxCost), label: formatUsdMicros(value) })),
    dayLabels: axisDays
      .map((day) => ({ day, x: round(centre(day)), label: String(Number(day.slice(8))) }))
      .filter((_, index) => index % labelEvery === 0),
  };
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children; text is set as text. */
function svg(tag: string, attributes: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const element = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** "2 Dec" for a UTC day. */
export function shortDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleString("en-US", { day: "numeric", month: "short", timeZone: "UTC" });
}

/** One day's figures, as its bar's and dot's tooltip and the table say them. */
export function dayText(day: UsageDay): string {
  return `${shortDay(day.day)}: ${day.images} ${day.images === 1 ? "image" : "images"}, ${formatUsdMicros(day.usdMicros)}`;
}

/**
 * The chart as inline SVG, named by `title` and described by `description` (role="img" with
 * aria-labelledby); the page puts the same figures in a table beside it for screen readers.
 */
export function usageChart(
  series: UsageDay[],
  axisDays: string[],
  text: { title: string; description: string; idPrefix: string },
): SVGElement {
  const layout = chartLayout(series, axisDays);
  const { idPrefix } = text;
  const { plot } = layout;
  const right = plot.x + plot.width;
  const bottom = plot.y + plot.height;
  const byDay = new Map(series.map((day) => [day.day, day]));
  const tip = (day: string) => svg("title", {}, dayText(byDay.get(day) as UsageDay));
  return svg(
    "svg",
    {
      class: "usage-chart",
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: "img",
      "aria-labelledby": `${idPrefix}-title ${idPrefix}-desc`,
    },
    svg("title", { id: `${idPrefix}-title` }, text.title),
    svg("desc", { id: `${idPrefix}-desc` }, text.description),
    ...layout.costTicks.map((tick) => svg("line", { class: "grid", x1: plot.x, x2: right, y1: tick.y, y2: tick.y })),
    ...layout.imageTicks.map((tick) =>
      svg(
        "text",
        { class: "axis images-axis", x: plot.x - 6, y: tick.y, "text-anchor": "end", "dominant-baseline": "middle" },
        tick.label,
      ),
    ),
    ...layout.costTicks.map((tick) =>
      svg("text", { class: "axis cost-axis", x: right + 6, y: tick.y, "dominant-baseline": "middle" }, tick.label),
    ),
    ...layout.dayLabels.map((label) =>
      svg("text", { class: "axis", x: label.x, y: bottom + 18, "text-anchor": "middle" }, label.label),
    ),
    svg("line", { class: "baseline", x1: plot.x, x2: right, y1: bottom, y2: bottom }),
    ...layout.bars.map((bar) =>
      svg(
        "rect",
        {
          class: "bar",
          x: bar.x,
          y: bar.y,
          width: bar.width,
          height: bar.height,
          "data-day": bar.day,
          "data-images": bar.images,
        },
        tip(bar.day),
      ),
    ),
    svg("polyline", { class: "cost-line", points: layout.points.map((point) => `${point.x},${point.y}`).join(" ") }),
    ...layout.points.map((point) =>
      svg(
        "circle",
        { class: "cost-dot", cx: point.x, cy: point.y, r: 3, "data-day": point.day, "data-usd-micros": point.usdMicros },
        tip(point.day),
      ),
    ),
  );
}
