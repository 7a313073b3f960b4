// Where new blocks go: pure geometry, so it is unit-tested (test/layout.test.mjs).

// A block's box on the canvas, in flow units (React Flow measures the real one; this is
// the fallback before it has). The width is the CSS max-width of .wb-node: a block with
// two or more params lays them out in two columns and reaches it, so a drop clamped
// with less would leave its right edge outside the view.
export const BLOCK_SIZE = { width: 200, height: 110 };
const GAP = 24;

function boxOf(node) {
  const w = (node.measured && node.measured.width) || node.width || BLOCK_SIZE.width;
  const h = (node.measured && node.measured.height) || node.height || BLOCK_SIZE.height;
  return { x: node.position.x, y: node.position.y, w, h };
}

function overlaps(a, b) {
  return a.x < b.x + b.w + GAP && b.x < a.x + a.w + GAP && a.y < b.y + b.h + GAP && b.y < a.y + a.h + GAP;
}

// The first spot, scanning rows from `area`'s top-left, where a new block overlaps no
// existing one; when the visible area is full, the next row below everything.
export function nextFreeSpot(nodes, area, size = BLOCK_SIZE) {
  const boxes = (nodes || []).map(boxOf);
  const stepX = size.width + GAP;
  const stepY = size.height + GAP;
  const x0 = area.x + GAP;
  const y0 = area.y + GAP;
  const cols = Math.max(1, Math.floor((area.width - GAP) / stepX));
  const rows = Math.max(1, Math.floor((area.height - GAP) / stepY));
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < cols; c += 1) {
      const cand = { x: x0 + c * stepX, y: y0 + r * stepY, w: size.width, h: size.height };
      if (!boxes.some((b) => overlaps(cand, b))) return { x: Math.round(cand.x), y: Math.round(cand.y) };
    }
  }
  const bottom = boxes.reduce((m, b) => Math.max(m, b.y + b.h), y0);
  return { x: Math.round(x0), y: Math.round(bottom + GAP) };
}

// Keep a dropped block wholly inside the visible area (a drop by the right edge would
// otherwise leave most of the block out of view).
export function clampInto(pos, area, size = BLOCK_SIZE) {
  const maxX = area.x + Math.max(0, area.width - size.width - 8);
  const maxY = area.y + Math.max(0, area.height - size.height - 8);
  return {
    x: Math.round(Math.min(Math.max(pos.x, area.x + 4), maxX)),
    y: Math.round(Math.min(Math.max(pos.y, area.y + 4), maxY)),
  };
}
