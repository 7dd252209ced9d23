// Receipts over time as inline SVG, drawn on the server: bars by geometry attributes and CSS
// classes only (no style attributes, nothing the CSP would have to allow), a <title> per bar for
// the exact numbers.
import { count, utc } from "./format.js";
import { html, type Html } from "./html.js";

export interface Series {
  /** Unix seconds: the start of the first slot. */
  from: number;
  slotS: number;
  accepted: readonly number[];
  rejected: readonly number[];
}

/** Stacked bars (accepted below, rejected on top), with an axis and a label every few slots. */
export function receiptsChart(series: Series, { width = 760, height = 170 } = {}): Html {
  const slots = series.accepted.length;
  const left = 44;
  const bottom = 22;
  const top = 8;
  const plotW = width - left - 8;
  const plotH = height - bottom - top;
  const totals = series.accepted.map((a, i) => a + (series.rejected[i] ?? 0));
  const max = Math.max(1, ...totals);
  const step = plotW / Math.max(1, slots);
  const barW = Math.max(1, step * 0.78);
  const y = (n: number) => (n / max) * plotH;
  const bars = series.accepted.map((accepted, i) => {
    const rejected = series.rejected[i] ?? 0;
    const x = left + i * step + (step - barW) / 2;
    const hA = y(accepted);
    const hR = y(rejected);
    const start = series.from + i * series.slotS;
    const label = `${utc(start)}: ${count(accepted)} accepted, ${count(rejected)} rejected`;
    return html`<g><title>${label}</title>
      <rect class="bar-accepted" x="${fixed(x)}" y="${fixed(top + plotH - hA)}" width="${fixed(barW)}" height="${fixed(hA)}"></rect>
      <rect class="bar-rejected" x="${fixed(x)}" y="${fixed(top + plotH - hA - hR)}" width="${fixed(barW)}" height="${fixed(hR)}"></rect></g>`;
  });
  const every = Math.max(1, Math.ceil(slots / 8));
  const labels = series.accepted.map((_, i) => {
    if (i % every !== 0) return null;
    const at = new Date((series.from + i * series.slotS) * 1000);
    const text = `${String(at.getUTCHours()).padStart(2, "0")}:${String(at.getUTCMinutes()).padStart(2, "0")}`;
    return html`<text x="${fixed(left + i * step)}" y="${height - 6}">${text}</text>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="Receipts per slot">
    <line class="axis" x1="${left}" y1="${top + plotH}" x2="${width - 8}" y2="${top + plotH}"></line>
    <line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}"></line>
    <text x="4" y="${top + 10}">${count(max)}</text><text x="4" y="${top + plotH}">0</text>
    ${bars}${labels}</svg>`;
}

/** A small version for a table cell, without axes. */
export function sparkline(series: Series): Html {
  const width = 160;
  const height = 30;
  const slots = series.accepted.length;
  const totals = series.accepted.map((a, i) => a + (series.rejected[i] ?? 0));
  const max = Math.max(1, ...totals);
  const step = width / Math.max(1, slots);
  const barW = Math.max(1, step * 0.8);
  const bars = series.accepted.map((accepted, i) => {
    const rejected = series.rejected[i] ?? 0;
    const hA = (accepted / max) * (height - 2);
    const hR = (rejected / max) * (height - 2);
    const x = i * step;
    return html`<rect class="bar-accepted" x="${fixed(x)}" y="${fixed(height - hA)}" width="${fixed(barW)}" height="${fixed(hA)}"></rect>
      <rect class="bar-rejected" x="${fixed(x)}" y="${fixed(height - hA - hR)}" width="${fixed(barW)}" height="${fixed(hR)}"></rect>`;
  });
  const total = totals.reduce((a, b) => a + b, 0);
  return html`<svg class="spark" viewBox="0 0 ${width} ${height}" role="img" aria-label="${count(total)} receipts"><title>${count(total)} receipts</title>${bars}</svg>`;
}

const fixed = (n: number) => n.toFixed(1);
