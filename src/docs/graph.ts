/**
 * The who-talks-to-whom picture of one event type, laid out at build time: senders in
 * the left column, the event in the middle, receivers on the right, one curved arrow per
 * service. Produces coordinates only; `templates/docs/partials/graph.hbs` draws them as
 * inline SVG (colours come from the stylesheet, so dark mode applies).
 */

export interface GraphNode {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  /** Centre x of the labels. */
  readonly cx: number;
  readonly label: string;
  /** Second line: the versions this service handles. */
  readonly sub: string;
  /** CSS class: `svc`, `evt` or `none` (no service declared on that side). */
  readonly cls: string;
}

export interface GraphEdge {
  readonly d: string;
}

export interface GraphView {
  readonly width: number;
  readonly height: number;
  /** Accessible name and long description of the picture. */
  readonly title: string;
  readonly desc: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export interface GraphSide {
  readonly label: string;
  readonly versions: readonly string[];
}

const COL_W = 190;
const GAP = 55;
const NODE_H = 40;
const ROW = 52;
const PAD = 8;
const MAX_LABEL = 24;

const clip = (s: string) => (s.length > MAX_LABEL ? `${s.slice(0, MAX_LABEL - 1)}…` : s);
const versionsText = (v: readonly string[]) => clip(v.length > 3 ? `${v.slice(0, 2).join(', ')} +${v.length - 2}` : v.join(', '));

export function layoutGraph(eventType: string, versions: readonly string[], senders: readonly GraphSide[], receivers: readonly GraphSide[]): GraphView {
  const rows = Math.max(senders.length, receivers.length, 1);
  const height = rows * ROW + 2 * PAD - (ROW - NODE_H);
  const width = 3 * COL_W + 2 * GAP + 2 * PAD;
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const midX = PAD + COL_W + GAP;
  const midY = (height - NODE_H) / 2;
  const column = (side: readonly GraphSide[], x: number, empty: string) => {
    const list = side.length > 0 ? side : [{ label: empty, versions: [] }];
    const top = (height - (list.length * ROW - (ROW - NODE_H))) / 2;
    return list.map((s, i) => {
      const node: GraphNode = { x, y: top + i * ROW, w: COL_W, h: NODE_H, cx: x + COL_W / 2, label: clip(s.label), sub: versionsText(s.versions), cls: side.length > 0 ? 'svc' : 'none' };
      nodes.push(node);
      return node;
    });
  };
  const left = column(senders, PAD, 'no sender declared');
  const right = column(receivers, midX + COL_W + GAP, 'no receiver declared');
  nodes.push({ x: midX, y: midY, w: COL_W, h: NODE_H, cx: midX + COL_W / 2, label: clip(eventType), sub: versionsText(versions), cls: 'evt' });
  const curve = (x1: number, y1: number, x2: number, y2: number) => {
    const mx = (x1 + x2) / 2;
    return `M${x1} ${y1}C${mx} ${y1} ${mx} ${y2} ${x2 - 4} ${y2}`;
  };
  const cy = midY + NODE_H / 2;
  if (senders.length > 0) for (const n of left) edges.push({ d: curve(n.x + n.w, n.y + NODE_H / 2, midX, cy) });
  if (receivers.length > 0) for (const n of right) edges.push({ d: curve(midX + COL_W, cy, n.x, n.y + NODE_H / 2) });
  const list = (side: readonly GraphSide[]) => (side.length > 0 ? side.map((s) => `${s.label} (${s.versions.join(', ')})`).join('; ') : 'none declared');
  return {
    width,
    height,
    title: `Who sends and receives ${eventType}`,
    desc: `Sent by: ${list(senders)}. Received by: ${list(receivers)}.`,
    nodes,
    edges,
  };
}
