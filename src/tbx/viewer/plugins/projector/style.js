// Projector dashboard styles (one <style> element; every class starts with tbx-p-).
export const CSS = `
.tbx-p { display: flex; gap: 8px; height: calc(100vh - 90px); min-height: 460px; font-size: 13px; }
.tbx-p-side { width: 310px; flex: none; overflow-y: auto; padding-right: 4px; }
.tbx-p-side section { border-bottom: 1px solid #e4e4e4; padding: 6px 0 8px; }
.tbx-p-side h4 { margin: 2px 0 6px; font-size: 12px; text-transform: uppercase; color: #555; letter-spacing: .03em; }
.tbx-p-row { display: flex; align-items: center; gap: 6px; margin: 3px 0; flex-wrap: wrap; }
.tbx-p-row label { color: #444; }
.tbx-p-row select, .tbx-p-row input[type=text] { flex: 1; min-width: 0; }
.tbx-p-row input[type=number] { width: 64px; }
.tbx-p-main { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.tbx-p-status { min-height: 20px; color: #555; font-size: 12px; padding: 2px 0 4px; }
.tbx-p-status.tbx-p-error { color: #b00020; font-weight: 600; }
.tbx-p-progress { height: 4px; background: #eee; border-radius: 2px; overflow: hidden; margin: 2px 0; }
.tbx-p-progress div { height: 100%; width: 0; background: #3b6fb6; transition: width .2s; }
.tbx-p-plot { position: relative; flex: 1; min-height: 300px; border: 1px solid #ddd; border-radius: 4px; overflow: hidden; background: #fff; }
.tbx-p-plot canvas { position: absolute; left: 0; top: 0; }
.tbx-p-overlay { pointer-events: none; }
.tbx-p-tip { position: absolute; pointer-events: none; background: rgba(255,255,255,.96); border: 1px solid #bbb;
  border-radius: 4px; padding: 4px 6px; font-size: 12px; display: none; z-index: 2; max-width: 260px; }
.tbx-p-tip canvas, .tbx-p-thumb { position: static; image-rendering: pixelated; display: block; margin-top: 3px; border: 1px solid #ddd; }
.tbx-p-problems { color: #8a4b00; background: #fff6e5; border: 1px solid #f0d9a8; border-radius: 4px; padding: 4px 6px; margin: 4px 0; font-size: 12px; }
.tbx-p-problems div + div { margin-top: 3px; }
.tbx-p-legend { max-height: 220px; overflow-y: auto; }
.tbx-p-legend-item { display: flex; align-items: center; gap: 6px; padding: 1px 0; }
.tbx-p-swatch { width: 12px; height: 12px; border-radius: 2px; flex: none; border: 1px solid rgba(0,0,0,.15); }
.tbx-p-count { color: #888; margin-left: auto; }
.tbx-p-gradient { height: 12px; border-radius: 2px; margin: 2px 0; }
.tbx-p-ends { display: flex; justify-content: space-between; color: #555; font-size: 11px; }
.tbx-p-list { max-height: 260px; overflow-y: auto; }
.tbx-p-list button { display: flex; width: 100%; text-align: left; border: 0; background: none; padding: 2px 4px; cursor: pointer; gap: 6px; }
.tbx-p-list button:hover { background: #eef3fb; }
.tbx-p-list .tbx-p-count { font-variant-numeric: tabular-nums; }
.tbx-p-meta { display: grid; grid-template-columns: auto 1fr; gap: 1px 8px; font-size: 12px; }
.tbx-p-meta span:nth-child(odd) { color: #666; }
.tbx-p-muted { color: #777; font-size: 12px; }
`;
