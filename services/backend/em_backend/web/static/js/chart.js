// Charts drawn as inline SVG. Prices move in steps (a score holds until the next event), so
// lines are drawn as steps, not interpolated slopes between points nobody traded at.

import { h, svg, clear } from './dom.js';
import { price, time as fmtTime } from './format.js';

const STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50];

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  return STEPS.find((s) => s >= raw) || 50;
}

/** Step path through [{x, y}] with gaps where y is null. */
function stepPath(points) {
  let d = '';
  let prev = null;
  for (const p of points) {
    if (p.y === null) {
      prev = null;
      continue;
    }
    if (prev === null) d += `M${p.x.toFixed(1)},${p.y.toFixed(1)}`;
    else d += `H${p.x.toFixed(1)}V${p.y.toFixed(1)}`;
    prev = p;
  }
  return d;
}

/** A tiny trend line for a table cell; values are numbers (nulls skipped). */
export function sparkline(values, { width = 112, height = 28, dir = null } = {}) {
  const vals = values.filter((v) => v !== null && Number.isFinite(v));
  const el = svg('svg', {
    class: 'spark',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    'aria-hidden': 'true',
    focusable: 'false',
  });
  if (vals.length < 2) {
    el.append(svg('line', { x1: 0, x2: width, y1: height / 2, y2: height / 2, class: 'spark-flat' }));
    return el;
  }
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  if (hi - lo < 0.5) {
    const mid = (hi + lo) / 2;
    lo = mid - 0.25;
    hi = mid + 0.25;
  }
  const pad = 2;
  const pts = vals.map((v, i) => ({
    x: (i / (vals.length - 1)) * width,
    y: pad + (1 - (v - lo) / (hi - lo)) * (height - 2 * pad),
  }));
  const last = vals[vals.length - 1];
  const first = vals[0];
  const trend = dir || (last > first ? 'up' : last < first ? 'down' : 'flat');
  const cls = `spark-${trend}`;
  el.append(svg('path', { d: stepPath(pts), class: cls }));
  return el;
}

/**
 * A line chart of several series sharing a time axis.
 * series: [{key, label, cls, points: [{t: ms, v: number|null}]}]
 */
export class LineChart {
  constructor(container, { height = 300, label = 'Price chart' } = {}) {
    this.container = container;
    this.height = height;
    this.label = label;
    this.series = [];
    this.wrap = h('div', { class: 'chart-wrap' });
    this.tip = h('div', { class: 'chart-tip', hidden: true, 'aria-hidden': 'true' });
    container.append(this.wrap, this.tip);
    this.observer = new ResizeObserver(() => this.render());
    this.observer.observe(container);
  }

  setSeries(series) {
    this.series = series;
    this.render();
  }

  destroy() {
    this.observer.disconnect();
  }

  render() {
    const width = Math.max(280, Math.floor(this.container.clientWidth));
    const height = this.height;
    const m = { top: 12, right: 58, bottom: 26, left: 8 };
    const iw = width - m.left - m.right;
    const ih = height - m.top - m.bottom;
    clear(this.wrap);
    const all = this.series.flatMap((s) => s.points);
    const values = all.map((p) => p.v).filter((v) => v !== null && Number.isFinite(v));
    const root = svg('svg', {
      class: 'chart',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': this.describe(),
    });
    this.wrap.append(root);
    if (!values.length) {
      root.append(svg('text', { x: width / 2, y: height / 2, class: 'chart-empty', 'text-anchor': 'middle' }, 'No history yet'));
      return;
    }
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    const span0 = Math.max(hi - lo, 1);
    lo = Math.max(0, lo - span0 * 0.15);
    hi = Math.min(100, hi + span0 * 0.15);
    const step = niceStep(hi - lo, 5);
    lo = Math.max(0, Math.floor(lo / step) * step);
    hi = Math.min(100, Math.ceil(hi / step) * step);
    if (hi <= lo) hi = lo + step;
    const times = all.map((p) => p.t);
    let t0 = Math.min(...times);
    let t1 = Math.max(...times);
    if (t1 - t0 < 10000) t0 = t1 - 10000; // keep "now" at the right edge
    const x = (t) => m.left + ((t - t0) / (t1 - t0)) * iw;
    const y = (v) => m.top + (1 - (v - lo) / (hi - lo)) * ih;
    this.scale = { x, y, t0, t1, m, iw, ih };

    const grid = svg('g', { class: 'chart-grid' });
    for (let v = lo; v <= hi + step / 2; v += step) {
      const yy = y(v);
      grid.append(svg('line', { x1: m.left, x2: m.left + iw, y1: yy, y2: yy }));
      grid.append(svg('text', { x: m.left + iw + 6, y: yy + 4, class: 'chart-axis' }, v.toFixed(2)));
    }
    const spanMs = t1 - t0;
    const fmt = (t) => {
      const d = new Date(t);
      if (spanMs <= 15 * 60e3) return d.toLocaleTimeString('en-GB', { hour12: false });
      if (spanMs <= 36 * 3600e3) return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
      return d.toLocaleDateString('en-CA', { month: '2-digit', day: '2-digit' });
    };
    const ticks = Math.max(1, Math.min(6, Math.floor(iw / 110), Math.floor(spanMs / 2000)));
    for (let i = 0; i <= ticks; i++) {
      const t = t0 + (spanMs * i) / ticks;
      const anchor = i === 0 ? 'start' : i === ticks ? 'end' : 'middle';
      grid.append(svg('text', { x: x(t), y: height - 8, class: 'chart-axis', 'text-anchor': anchor }, fmt(t)));
    }
    root.append(grid);

    for (const s of this.series) {
      const pts = s.points.map((p) => ({ x: x(p.t), y: p.v === null || !Number.isFinite(p.v) ? null : y(p.v) }));
      root.append(svg('path', { d: stepPath(pts), class: `chart-line ${s.cls}` }));
      const last = [...pts].reverse().find((p) => p.y !== null);
      if (last) root.append(svg('circle', { cx: last.x, cy: last.y, r: 3, class: `chart-dot ${s.cls}` }));
    }

    const cursor = svg('line', { class: 'chart-cursor', y1: m.top, y2: m.top + ih, x1: -10, x2: -10 });
    const overlay = svg('rect', { x: m.left, y: m.top, width: iw, height: ih, class: 'chart-overlay' });
    overlay.addEventListener('mousemove', (e) => this.hover(e, cursor));
    overlay.addEventListener('mouseleave', () => {
      this.tip.hidden = true;
      cursor.setAttribute('x1', -10);
      cursor.setAttribute('x2', -10);
    });
    root.append(cursor, overlay);
  }

  valueAt(s, t) {
    let v = null;
    for (const p of s.points) {
      if (p.t > t) break;
      v = p.v;
    }
    return v;
  }

  hover(event, cursor) {
    const rect = event.currentTarget.ownerSVGElement.getBoundingClientRect();
    const { x, t0, t1, m, iw } = this.scale;
    const px = event.clientX - rect.left;
    const t = t0 + ((px - m.left) / iw) * (t1 - t0);
    const xx = x(t);
    cursor.setAttribute('x1', xx);
    cursor.setAttribute('x2', xx);
    const rows = this.series.map((s) =>
      h('div', { class: 'tip-row' }, h('span', { class: `tip-key ${s.cls}` }, s.label), h('span', { class: 'num' }, price(this.valueAt(s, t)))),
    );
    clear(this.tip).append(h('div', { class: 'tip-time' }, fmtTime(new Date(t).toISOString())), ...rows);
    this.tip.hidden = false;
    const left = Math.min(px + 14, rect.width - 150);
    this.tip.style.left = `${left}px`;
    this.tip.style.top = `${m.top + 8}px`;
  }

  describe() {
    const parts = this.series.map((s) => {
      const vals = s.points.map((p) => p.v).filter((v) => v !== null && Number.isFinite(v));
      if (!vals.length) return `${s.label}: no data`;
      return `${s.label} ${price(vals[vals.length - 1])} (range ${price(Math.min(...vals))} to ${price(Math.max(...vals))})`;
    });
    return `${this.label}. ${parts.join('; ')}`;
  }
}
