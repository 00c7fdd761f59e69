// Where the trace panel goes (view_follow.js): inside the window, beside the unit it explains,
// never over that unit, the outputs or "Why?", and over as few of the unit's outlines as it
// can; on a phone, where view.css fixes it to the window's bottom, at the bottom or the top,
// whichever leaves the unit in sight. Rectangles are {left, top, right, bottom} in the window's
// CSS pixels (as getBoundingClientRect gives them).

const GAP = 12;         // CSS pixels between the trace and what it must not cover
const MARGIN = 8;       // CSS pixels the trace keeps from the window's edges
const SHORTEST = 200;   // CSS pixels: a trace shortened to fit keeps at least its sum and a table

// The window's rectangle of the cells [top, left, bottom, right] (inclusive) of ``canvas``.
export function cellRect(canvas, [top, left, bottom, right]) {
  const r = canvas.getBoundingClientRect();
  const sy = r.height / canvas.height, sx = r.width / canvas.width;
  return { left: r.left + left * sx, top: r.top + top * sy, right: r.left + (right + 1) * sx,
    bottom: r.top + (bottom + 1) * sy };
}

// Places ``panel`` (the open trace, inside ``wrap``, its offset parent). ``unit``: the unit's
// rectangle; ``anchor``: the map or row it was opened from; ``tiers``: lists of rectangles not
// to cover, the most to avoid first, the last what it must never cover; ``lift``: on a phone,
// the page may scroll to show the unit above the trace (not when the layout only changed).
export function placeTrace(panel, { unit, anchor, tiers, wrap, lift }) {
  panel.style.maxHeight = "";
  if (getComputedStyle(panel).position === "fixed") {
    panel.style.left = panel.style.top = "";
    onPhone(panel, unit, lift);
    return;
  }
  panel.classList.remove("nv-trace-top");
  const box = wrap.getBoundingClientRect(), bounds = windowBounds(box, panel.offsetWidth);
  const width = panel.offsetWidth, height = panel.offsetHeight;
  let best = spot({ width, height }, unit, tiers, bounds);
  if (best.score[0] === tiers.length) {
    // No room for all of it beside the unit: shorter (it scrolls), above or below the unit.
    for (const room of [bounds.bottom - anchor.bottom - GAP, anchor.top - GAP - bounds.top]) {
      if (room < Math.min(height, SHORTEST)) continue;
      const shorter = spot({ width, height: Math.min(room, height) }, unit, tiers, bounds);
      if (before(shorter.score, best.score)) best = shorter;
    }
  }
  const { left, top, bottom } = best.box;
  if (bottom - top < height) panel.style.maxHeight = `${bottom - top}px`;
  panel.style.left = `${left - box.left}px`;
  panel.style.top = `${top - box.top}px`;
}

// A phone: the trace at the bottom when the unit is above it, at the top when the unit is
// below where it would start; else (a tall trace, a unit mid-screen) the page scrolls the
// unit above it.
function onPhone(panel, unit, lift) {
  const height = panel.offsetHeight, room = innerHeight - height - GAP;
  const top = unit.bottom > room && unit.top >= height + GAP;
  panel.classList.toggle("nv-trace-top", top);
  if (!top && unit.bottom > room && lift) window.scrollBy(0, unit.bottom - room);
}

// Where the trace may go: inside the window and, where the view is wide enough, over it.
function windowBounds(wrap, width) {
  const page = document.documentElement.clientWidth;
  const bounds = { left: Math.max(MARGIN, wrap.left), right: Math.min(page - MARGIN, wrap.right),
    top: MARGIN, bottom: innerHeight - MARGIN };
  if (bounds.right - bounds.left < width) Object.assign(bounds, { left: MARGIN, right: page - MARGIN });
  return bounds;
}

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const overlapArea = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
  * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
const distance = (a, b) => Math.hypot(Math.max(0, b.left - a.right, a.left - b.right),
  Math.max(0, b.top - a.bottom, a.top - b.bottom));
const clamp = (v, low, high) => Math.max(low, Math.min(v, high));
// Scores compare as words do: the first number that differs decides.
const before = (a, b) => { const i = a.findIndex((v, k) => v !== b[k]); return i >= 0 && a[i] < b[i]; };

// The best place for a box of ``size`` inside ``bounds``: tried beside, above and below the
// unit and beside every rectangle to avoid, it is the one that covers nothing in the first of
// ``tiers`` (else in the second, ...; else the least of the last), then the nearest the unit.
// Returns {box, score}; score[0] is the tier it keeps clear of (tiers.length: none).
function spot({ width, height }, unit, tiers, bounds) {
  const avoid = tiers[0], last = tiers[tiers.length - 1];
  const lefts = [unit.right + GAP, unit.left - GAP - width, unit.left, unit.right - width, bounds.left,
    bounds.right - width, ...avoid.flatMap((r) => [r.right + GAP, r.left - GAP - width])];
  const tops = [unit.top - 20, unit.bottom + GAP, unit.top - GAP - height, bounds.top,
    bounds.bottom - height, ...avoid.flatMap((r) => [r.bottom + GAP, r.top - GAP - height])];
  let best = null;
  for (const l of lefts) {
    for (const t of tops) {
      const left = clamp(l, bounds.left, bounds.right - width);
      const top = clamp(t, bounds.top, bounds.bottom - height);
      const box = { left, top, right: left + width, bottom: top + height };
      const tier = tiers.findIndex((list) => !list.some((r) => overlaps(box, r)));
      const score = [tier < 0 ? tiers.length : tier, last.reduce((s, r) => s + overlapArea(box, r), 0),
        distance(box, unit)];
      if (!best || before(score, best.score)) best = { box, score };
    }
  }
  return best;
}
