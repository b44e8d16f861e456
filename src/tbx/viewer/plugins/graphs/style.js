// Graphs dashboard styles (one <style> element; every class starts with tbx-).
export const CSS = `
.tbx-graphs { display: flex; flex-direction: column; height: calc(100vh - 90px); min-height: 420px; }
.tbx-g-bar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 4px 0 8px; }
.tbx-g-bar button { padding: 2px 8px; }
.tbx-g-searchbox { position: relative; }
.tbx-g-search { width: 260px; }
.tbx-g-matches { display: none; position: absolute; z-index: 5; top: 100%; left: 0; width: 420px; max-height: 360px;
  overflow: auto; background: #fff; border: 1px solid #ccc; box-shadow: 0 2px 8px rgba(0,0,0,.15); }
.tbx-g-matches.tbx-g-show { display: block; }
.tbx-g-match { display: block; width: 100%; text-align: left; border: 0; background: none; padding: 3px 8px;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; cursor: pointer; }
.tbx-g-match:hover { background: #eef3fb; }
.tbx-g-match span { color: #777; }
.tbx-g-status { color: #555; font-size: 12px; }
.tbx-g-status.tbx-g-error { color: #b00020; font-weight: 600; }
.tbx-g-body { display: flex; flex: 1; min-height: 0; gap: 8px; }
.tbx-g-canvas { flex: 1; min-width: 0; border: 1px solid #ddd; border-radius: 4px; background: #fcfcfd;
  overflow: hidden; cursor: grab; touch-action: none; }
.tbx-g-details { width: 320px; overflow: auto; font-size: 12px; border-left: 1px solid #eee; padding: 0 8px; }
.tbx-g-details h3 { margin: 4px 0; font-size: 14px; word-break: break-all; }
.tbx-g-details h4 { margin: 10px 0 2px; font-size: 12px; }
.tbx-g-details table { border-collapse: collapse; width: 100%; }
.tbx-g-details th { text-align: left; vertical-align: top; padding: 1px 6px 1px 0; color: #555; font-weight: 500;
  white-space: nowrap; }
.tbx-g-details td { word-break: break-all; padding: 1px 0; }
.tbx-g-details ul { margin: 0; padding-left: 16px; }
.tbx-g-details li { word-break: break-all; }
.tbx-g-muted { color: #777; }
.tbx-g-full { word-break: break-all; }
.tbx-g-error { color: #b00020; }
.tbx-graph-svg { display: block; user-select: none; font: 11px system-ui, sans-serif; }
.tbx-edge { fill: none; stroke: #8a94a6; }
.tbx-ctrl { stroke-dasharray: 4 3; }
.tbx-port-edge { stroke: #b9c0cc; stroke-dasharray: 2 2; }
.tbx-arrow { fill: #8a94a6; }
.tbx-port { fill: #fff; stroke: #8a94a6; }
.tbx-node rect { fill: #fff; stroke: #9aa3b2; }
.tbx-node rect.tbx-io { fill: #f3f0e6; }
.tbx-node, .tbx-group { cursor: pointer; }
.tbx-closed rect { fill: #e3ebf8; stroke: #6b8fc7; }
.tbx-closed.tbx-series rect, .tbx-closed.tbx-chunk rect { fill: #eee8f7; stroke: #8b74b8; }
.tbx-open > rect { fill: rgba(227, 235, 248, 0.35); stroke: #6b8fc7; stroke-dasharray: 5 3; }
.tbx-head { font-weight: 600; fill: #24344f; }
.tbx-open > rect.tbx-headband { fill: rgba(107, 143, 199, 0.12); stroke: none; }
.tbx-count { fill: #4f5d75; font-size: 10px; }
.tbx-match rect { stroke: #e0a000; stroke-width: 2.5; }
.tbx-selected rect { stroke: #e8590c; stroke-width: 3; }
`;
